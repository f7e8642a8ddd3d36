package wake_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
)

func emit(t testing.TB, c *dbus.Conn, path dbus.ObjectPath, name string, v any) {
	t.Helper()
	if err := c.Emit(path, name, v); err != nil {
		t.Fatalf("emit %s: %v", name, err)
	}
}

// waitCount reads snapshots until the account has want new mails.
func waitCount(t testing.TB, snaps <-chan poller.Snapshot, what string, want int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	var last poller.Snapshot
	for {
		select {
		case s, ok := <-snaps:
			if !ok {
				t.Fatalf("%s: the subscription closed", what)
			}
			last = s
			if len(s.Accounts) == 1 && s.Accounts[0].State == poller.StateOK && s.Accounts[0].New == want {
				return
			}
		case <-deadline:
			t.Fatalf("%s: not within 20 s; last snapshot %+v", what, last.Accounts)
		}
	}
}

// waitConns polls Dovecot until cond holds for user's connections.
func waitConns(t testing.TB, d *testenv.Dovecot, user, what string, cond func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := d.IMAPSessions(t, user)
		if cond(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s; Dovecot holds %v", what, c)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitSnapshot reads snapshots until cond holds for the one account.
func waitSnapshot(t testing.TB, snaps <-chan poller.Snapshot, what string, limit time.Duration, cond func(poller.AccountSnapshot) bool) poller.AccountSnapshot {
	t.Helper()
	deadline := time.After(limit)
	var last poller.Snapshot
	for {
		select {
		case s, ok := <-snaps:
			if !ok {
				t.Fatalf("%s: the subscription closed", what)
			}
			last = s
			if len(s.Accounts) == 1 && cond(s.Accounts[0]) {
				return s.Accounts[0]
			}
		case <-deadline:
			t.Fatalf("%s: not within %s; last snapshot %+v", what, limit, last.Accounts)
		}
	}
}

// waitFor polls check until it returns "", failing with its last word
// after limit.
func waitFor(t testing.TB, what string, limit time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		why := check()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%s: not within %s: %s\n%s", what, limit, why, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
