package wake_test

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
	"mailsneaker/seen"
	"mailsneaker/wake"
)

// TestFollowSleepAndWakeDovecot runs the real manager against Dovecot,
// with an hourly poll so that only IDLE or a reconnect brings mail, and a
// private bus playing the system bus, where the test plays logind and
// NetworkManager. After PrepareForSleep(true) Dovecot holds no connection
// of the account; mail delivered while asleep is counted as soon as
// PrepareForSleep(false) comes; after NetworkManager's connected-global
// the account is on new connections.
func TestFollowSleepAndWakeDovecot(t *testing.T) {
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	addr := testenv.SessionBus(t, false)
	login1 := testenv.Connect(t, addr)
	nm := testenv.Connect(t, addr)
	for c, name := range map[*dbus.Conn]string{login1: "org.freedesktop.login1", nm: "org.freedesktop.NetworkManager"} {
		if r, err := c.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("own %s: %v %v", name, r, err)
		}
	}
	a := accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: d.IMAPS,
		Security: accounts.TLS, Username: user, PollInterval: time.Hour}.WithDefaults()
	store, err := seen.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := poller.NewManager(poller.ManagerOptions{Accounts: []accounts.Account{a}, Store: store,
		CheckerOptions: func(accounts.Account) *poller.Options {
			return &poller.Options{RootCAs: d.RootCAs, Password: func(context.Context) (string, error) { return pw, nil }}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snaps := m.Snapshots(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	followed := make(chan struct{})
	go func() { defer close(followed); wake.Follow(ctx, slog.New(slog.DiscardHandler), addr, m) }()

	waitCount(t, snaps, "0 new at start", 0)
	// IDLE is up when Dovecot sees two connections: the check's and IDLE's.
	n2 := func(c []string) bool { return len(c) == 2 }
	waitConns(t, d, user, "the check and IDLE connections", n2)

	emit(t, login1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", true)
	waitConns(t, d, user, "no connection after PrepareForSleep(true)", func(c []string) bool { return len(c) == 0 })
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "while asleep", "x"))

	emit(t, login1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", false)
	waitCount(t, snaps, "the mail delivered while asleep, after PrepareForSleep(false)", 1)
	before := waitConns(t, d, user, "IDLE again after waking", n2)

	// The network came back: the old connections go, new ones count.
	emit(t, nm, "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager.StateChanged", uint32(70))
	waitConns(t, d, user, "new connections after connected-global", func(c []string) bool {
		return len(c) == 2 && !slices.Contains(c, before[0]) && !slices.Contains(c, before[1])
	})
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "after the network came back", "x"))
	waitCount(t, snaps, "the mail delivered after connected-global", 2)

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	<-followed
}

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

// conns lists the pids of user's IMAP connections that Dovecot holds.
func conns(t testing.TB, d *testenv.Dovecot, user string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(d.Doveadm(t, "who", "-1", user), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == user && f[1] == "imap" {
			out = append(out, f[2])
		}
	}
	return out
}

// waitConns polls Dovecot until cond holds for user's connections.
func waitConns(t testing.TB, d *testenv.Dovecot, user, what string, cond func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := conns(t, d, user)
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
