package poller

import (
	"context"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// scriptChecker's checks return, in turn, the errors the test sends (nil:
// success); its Wait ends at once, so the next check follows.
type scriptChecker struct{ errs chan error }

func (c *scriptChecker) Check(ctx context.Context, q Query) (*Inbox, error) {
	select {
	case err := <-c.errs:
		if err != nil {
			return nil, err
		}
		return &Inbox{Unread: -1}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *scriptChecker) Wait(ctx context.Context, d time.Duration) error { return nil }
func (c *scriptChecker) Close() error                                    { return nil }

// TestErrSince: ErrSince is when the errors in a row began, for "offline
// since 10:42": set by the first failed check, kept by the next failures,
// cleared by a success.
func TestErrSince(t *testing.T) {
	ck := &scriptChecker{errs: make(chan error)}
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 1, Username: "u",
		PollInterval: time.Hour}.WithDefaults()
	_, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return ck }, BackoffMin: time.Millisecond, BackoffMax: time.Millisecond})
	defer stop()
	offline := &CheckError{Kind: KindNetwork, Msg: "127.0.0.1:1 did not answer in time"}
	before := time.Now()
	ck.errs <- offline
	s := waitSnap(t, sub, "the first error", func(s Snapshot) bool { return s.Accounts[0].State == StateError })
	since := s.Accounts[0].ErrSince
	if since.Before(before) || since.After(time.Now()) {
		t.Fatalf("ErrSince %v after the first failure, want between %v and now", since, before)
	}
	ck.errs <- &CheckError{Kind: KindNetwork, Msg: "127.0.0.1:1 refused the connection"}
	s = waitSnap(t, sub, "the second error", func(s Snapshot) bool {
		return s.Accounts[0].State == StateError && s.Accounts[0].Err.Msg != offline.Msg
	})
	if got := s.Accounts[0].ErrSince; !got.Equal(since) {
		t.Errorf("ErrSince %v after the second failure, want it kept: %v", got, since)
	}
	ck.errs <- nil
	s = waitSnap(t, sub, "the success", func(s Snapshot) bool { return s.Accounts[0].State == StateOK })
	if got := s.Accounts[0].ErrSince; !got.IsZero() {
		t.Errorf("ErrSince %v after a success, want zero", got)
	}
}
