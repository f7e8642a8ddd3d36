package poller

import (
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
)

// TestSignInAgainWaitsForTheUser: a KindSignIn error is not retried on the
// backoff (which would ask the token endpoint every few seconds) but after
// signInWait, or at once when the user's new sign-in pokes the account.
func TestSignInAgainWaitsForTheUser(t *testing.T) {
	ck := &scriptChecker{errs: make(chan error, 1)}
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 1, Username: "u",
		PollInterval: time.Hour}.WithDefaults()
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return ck }, BackoffMin: time.Millisecond, BackoffMax: time.Millisecond})
	defer stop()
	ck.errs <- &CheckError{Kind: KindSignIn, Msg: "cannot get an access token", Err: oauth.ErrSignInAgain}
	s := waitSnap(t, sub, "the sign-in error", func(s Snapshot) bool { return s.Accounts[0].State == StateError })
	if got := s.Accounts[0]; got.Err.Kind != KindSignIn || time.Until(got.Retry) < signInWait-time.Minute {
		t.Fatalf("kind %s, retry in %s; want KindSignIn and a retry after about %s", got.Err.Kind, time.Until(got.Retry), signInWait)
	}
	ck.errs <- nil // the user signed in
	if err := m.CheckNow("a"); err != nil {
		t.Fatal(err)
	}
	waitSnap(t, sub, "the check after the new sign-in", func(s Snapshot) bool { return s.Accounts[0].State == StateOK })
}

// TestRefusedTokenRetries: a refused password waits for the user (trying
// it again can lock the account), but a refused OAuth2 access token does
// not: the source dropped it, and the retry gets a fresh one (or, when the
// sign-in is gone, KindSignIn, which waits).
func TestRefusedTokenRetries(t *testing.T) {
	ck := &scriptChecker{errs: make(chan error, 2)}
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 1, Username: "u",
		PollInterval: time.Hour, Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderGoogle}.WithDefaults()
	_, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return ck }, BackoffMin: time.Millisecond, BackoffMax: time.Millisecond})
	defer stop()
	ck.errs <- &CheckError{Kind: KindAuth, Msg: "the server refused the access token"}
	ck.errs <- nil // the retry, with a fresh token
	waitSnap(t, sub, "the retry with a fresh token, unasked", func(s Snapshot) bool { return s.Accounts[0].State == StateOK })
}
