package poller

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/oauth"
)

// oauthDovecot is a Dovecot with its oauth2 passdb, the fake provider whose
// tokens it takes, and one user with two mails.
type oauthDovecot struct {
	d    *testenv.Dovecot
	as   *testenv.OAuthServer
	user string
	logs bytes.Buffer
}

func newOAuthDovecot(t *testing.T) *oauthDovecot {
	t.Helper()
	as := testenv.StartOAuthServer(t)
	d := testenv.StartDovecotOAuth(t, as.Key)
	user, _ := d.AddUser(t)
	d.Deliver(t, user, testenv.Message("a@example.com", "one", "1"))
	d.Deliver(t, user, testenv.Message("b@example.com", "two", "2"))
	return &oauthDovecot{d: d, as: as, user: user}
}

func (x *oauthDovecot) account(p accounts.Protocol, mech accounts.SASLMechanism) accounts.Account {
	port := x.d.IMAPS
	if p == accounts.POP3 {
		port = x.d.POP3S
	}
	a := accounts.Account{Name: "oauth", Protocol: p, Host: "127.0.0.1", Port: port, Security: accounts.TLS, Username: x.user,
		Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderCustom, OAuthClientID: x.as.ClientID,
		OAuthAuthURL: x.as.AuthURL(), OAuthTokenURL: x.as.TokenURL(), OAuthScopes: []string{"mail", "offline_access"},
		SASLMechanism: mech}
	return a.WithDefaults()
}

// signIn runs the browser flow without a browser and returns the grant's
// token source, with the clock now.
func (x *oauthDovecot) signIn(t *testing.T, a accounts.Account, now func() time.Time) *oauth.Source {
	t.Helper()
	f, err := oauth.NewFlow(a, "http://127.0.0.1:1"+oauth.CallbackPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.Finish(context.Background(), x.as.Consent(t, f.AuthCodeURL(), true).Query())
	if err != nil {
		t.Fatal(err)
	}
	return g.Source(a, &oauth.SourceOptions{Now: now})
}

func (x *oauthDovecot) options(src *oauth.Source) *Options {
	return &Options{RootCAs: x.d.RootCAs, OAuth: src, Timeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&x.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

func check(t *testing.T, a accounts.Account, o *Options) (*Inbox, error) {
	t.Helper()
	c := newChecker(a, o)
	defer c.Close()
	return c.Check(context.Background(), Query{})
}

// TestOAuthDovecot logs in to a real Dovecot with each mechanism over
// IMAPS and POP3S, and counts the mail.
func TestOAuthDovecot(t *testing.T) {
	x := newOAuthDovecot(t)
	for _, tc := range []struct {
		name  string
		proto accounts.Protocol
		mech  accounts.SASLMechanism
		said  string // in the debug log
	}{
		{"imap xoauth2", accounts.IMAP, accounts.SASLXOAuth2, "mechanism=XOAUTH2"},
		{"imap oauthbearer", accounts.IMAP, accounts.SASLOAuthBearer, "mechanism=OAUTHBEARER"},
		{"imap auto", accounts.IMAP, accounts.SASLAuto, "mechanism=OAUTHBEARER"},
		{"pop3 xoauth2", accounts.POP3, accounts.SASLXOAuth2, "mechanism=XOAUTH2"},
		{"pop3 auto", accounts.POP3, "", "mechanism=OAUTHBEARER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x.logs.Reset()
			a := x.account(tc.proto, tc.mech)
			src := x.signIn(t, a, nil)
			in, err := check(t, a, x.options(src))
			if err != nil {
				t.Fatalf("check: %v\n%s", err, x.logs.String())
			}
			if in.Messages != 2 {
				t.Fatalf("%d messages, want 2", in.Messages)
			}
			if !strings.Contains(x.logs.String(), tc.said) {
				t.Fatalf("log lacks %q:\n%s", tc.said, x.logs.String())
			}
			tok, _ := src.Token(context.Background())
			if strings.Contains(x.logs.String(), tok) {
				t.Fatal("the access token is in the debug log")
			}
		})
	}
}

// TestOAuthDovecotExpiryAndRevocation: an access token near its expiry is
// renewed before the next check, which succeeds; a revoked grant gives
// KindSignIn, and later checks ask the token endpoint nothing more.
func TestOAuthDovecotExpiryAndRevocation(t *testing.T) {
	x := newOAuthDovecot(t)
	for _, proto := range []accounts.Protocol{accounts.IMAP, accounts.POP3} {
		t.Run(string(proto), func(t *testing.T) {
			a := x.account(proto, "")
			now := time.Now()
			src := x.signIn(t, a, func() time.Time { return now })
			o := x.options(src)
			if _, err := check(t, a, o); err != nil {
				t.Fatal(err)
			}
			before := x.as.Refreshes()
			now = now.Add(59 * time.Minute) // the one-hour token is inside the margin
			if in, err := check(t, a, o); err != nil || in.Messages != 2 {
				t.Fatalf("check after expiry: %v", err)
			}
			if x.as.Refreshes() != before+1 {
				t.Fatalf("%d refreshes, want 1", x.as.Refreshes()-before)
			}
			x.as.RevokeAll()
			now = now.Add(2 * time.Hour)
			_, err := check(t, a, o)
			if KindOf(err) != KindSignIn || !errors.Is(err, oauth.ErrSignInAgain) {
				t.Fatalf("after revocation: %v (kind %s), want KindSignIn", err, KindOf(err))
			}
			n := x.as.Requests()
			if _, err := check(t, a, o); KindOf(err) != KindSignIn || x.as.Requests() != n {
				t.Fatalf("again: %v; %d more token requests", err, x.as.Requests()-n)
			}
		})
	}
}

// TestOAuthDovecotCommand: oauth_command's token logs in; a token the
// server refuses is KindAuth, quoting no token.
func TestOAuthDovecotCommand(t *testing.T) {
	x := newOAuthDovecot(t)
	dir := t.TempDir()
	good := x.as.AccessToken(x.user, time.Hour)
	expired := x.as.AccessToken(x.user, -time.Hour)
	for _, tc := range []struct {
		name  string
		proto accounts.Protocol
		tok   string
		kind  ErrorKind // 0: it logs in
	}{
		{"imap", accounts.IMAP, good, 0},
		{"pop3", accounts.POP3, good, 0},
		{"imap expired", accounts.IMAP, expired, KindAuth},
		{"pop3 expired", accounts.POP3, expired, KindAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The token is read from a file: never on a command line.
			f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(f, []byte(tc.tok+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			a := x.account(tc.proto, "")
			a.OAuthProvider, a.OAuthClientID, a.OAuthAuthURL, a.OAuthTokenURL, a.OAuthScopes = "", "", "", "", nil
			a.OAuthCommand = "cat '" + f + "'"
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			in, err := check(t, a, x.options(nil))
			if tc.kind == 0 {
				if err != nil || in.Messages != 2 {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if KindOf(err) != tc.kind || strings.Contains(err.Error(), tc.tok) {
				t.Fatalf("check = %v (kind %s), want kind %s without the token", err, KindOf(err), tc.kind)
			}
			if !strings.Contains(err.Error(), "oauth_command") {
				t.Fatalf("the error does not say where the token came from: %v", err)
			}
		})
	}
}
