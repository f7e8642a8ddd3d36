package poller

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/seen"
)

// brokenPushChecker checks fine, but its push connection breaks at once
// after every check, as an IDLE link through a proxy that went silent.
type brokenPushChecker struct {
	checks atomic.Int32
}

func (c *brokenPushChecker) Check(ctx context.Context, q Query) (*Inbox, error) {
	c.checks.Add(1)
	return &Inbox{}, nil
}

func (c *brokenPushChecker) Wait(ctx context.Context, d time.Duration) error {
	return &CheckError{Kind: KindNetwork, Msg: "the IDLE connection broke"}
}

func (c *brokenPushChecker) Close() error { return nil }

// TestManagerReportsBrokenPush: an error from Wait (a dead IDLE link) is
// reported as the account's error at once, not taken for a poke, and the
// manager backs off before it checks again.
func TestManagerReportsBrokenPush(t *testing.T) {
	ck := &brokenPushChecker{}
	store, err := seen.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "h", Username: "u", PollInterval: time.Hour}.WithDefaults()
	_, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: store,
		NewChecker: func(accounts.Account) Checker { return ck },
		BackoffMin: time.Hour, BackoffMax: time.Hour})
	s := waitSnap(t, sub, "the broken push reported", func(s Snapshot) bool { return s.Accounts[0].State == StateError })
	if e := s.Accounts[0].Err; e == nil || e.Msg != "the IDLE connection broke" {
		t.Errorf("error %v, want the Wait error", e)
	}
	stop()
	if n := ck.checks.Load(); n != 1 {
		t.Errorf("%d checks, want 1: a broken push backs off before checking again", n)
	}
}
