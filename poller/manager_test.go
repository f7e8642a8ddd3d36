package poller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/seen"
)

// waitSnap reads snapshots until cond holds, failing after a deadline.
func waitSnap(t *testing.T, ch <-chan Snapshot, what string, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	deadline := time.After(20 * time.Second)
	var last Snapshot
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				t.Fatalf("the subscription ended while waiting for %s; last snapshot: %s", what, describe(last))
			}
			if cond(s) {
				return s
			}
			last = s
		case <-deadline:
			t.Fatalf("timed out waiting for %s; last snapshot: %s", what, describe(last))
		}
	}
}

func describe(s Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seq %d total %d", s.Seq, s.Total)
	for _, a := range s.Accounts {
		fmt.Fprintf(&b, "; %s state %d new %d err %v", a.Name, a.State, a.New, a.Err)
	}
	return b.String()
}

func newCount(name string, n int) func(Snapshot) bool {
	return func(s Snapshot) bool {
		for _, a := range s.Accounts {
			if a.Name == name {
				return a.State == StateOK && a.New == n
			}
		}
		return false
	}
}

// dovecotAccount is an account of user on d over implicit TLS that polls
// only hourly, so that changes must come by IDLE or a poke.
func dovecotAccount(d *testenv.Dovecot, name string, p accounts.Protocol, user string) accounts.Account {
	port := d.IMAPS
	if p == accounts.POP3 {
		port = d.POP3S
	}
	return accounts.Account{Name: name, Protocol: p, Host: "127.0.0.1", Port: port,
		Security: accounts.TLS, Username: user, PollInterval: time.Hour}.WithDefaults()
}

// dovecotOptions trusts d and gives every account the password pw.
func dovecotOptions(d *testenv.Dovecot, pw string) func(accounts.Account) *Options {
	return func(accounts.Account) *Options {
		return &Options{RootCAs: d.RootCAs, Password: func(context.Context) (string, error) { return pw, nil }}
	}
}

func mustOpenStore(t *testing.T, dir string) *seen.Store {
	t.Helper()
	store, err := seen.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func startManager(t *testing.T, o ManagerOptions) (*Manager, <-chan Snapshot, func()) {
	t.Helper()
	m := NewManager(o)
	ctx, cancel := context.WithCancel(context.Background())
	sub := m.Snapshots(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	t.Cleanup(func() { cancel() })
	return m, sub, stop
}

// TestManagerIMAPPushAndMarkRead runs the manager against Dovecot with a
// poll interval of an hour, so every change must come by IDLE.
func TestManagerIMAPPushAndMarkRead(t *testing.T) {
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	a := dovecotAccount(d, "work", accounts.IMAP, user)
	opts := dovecotOptions(d, pw)
	stateDir := t.TempDir()
	store := mustOpenStore(t, stateDir)
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: store, CheckerOptions: opts})
	waitSnap(t, sub, "first check", newCount("work", 0))

	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "one", "x"))
	waitSnap(t, sub, "1 new by push", newCount("work", 1))
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "two", "x"))
	seen := waitSnap(t, sub, "2 new by push", newCount("work", 2))
	if got := seen.Accounts[0].Mails; len(got) != 2 || got[0].Subject != "two" {
		t.Fatalf("mails = %+v, want two, one", got)
	}

	// A mail that arrives after the user looked stays new.
	d.Deliver(t, user, testenv.Message("Cy <cy@example.com>", "three", "x"))
	waitSnap(t, sub, "3 new", newCount("work", 3))
	n, err := m.MarkRead(context.Background(), seen, "")
	if err != nil || n != 2 {
		t.Fatalf("MarkRead = %d, %v; want 2", n, err)
	}
	after := waitSnap(t, sub, "1 new after mark read", newCount("work", 1))
	if s := after.Accounts[0].Mails; len(s) != 1 || s[0].Subject != "three" {
		t.Fatalf("after mark read: mails %+v, want three", s)
	}

	// Read elsewhere: it drops by push.
	d.Doveadm(t, "flags", "add", "-u", user, `\Seen`, "mailbox", "INBOX", "uid", "3")
	waitSnap(t, sub, "0 new after reading elsewhere", newCount("work", 0))
	stop()

	// A restart does not bring the dismissed mails back; a new mail counts.
	store2 := mustOpenStore(t, stateDir)
	_, sub2, stop2 := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: store2, CheckerOptions: opts})
	waitSnap(t, sub2, "0 new after restart", newCount("work", 0))
	d.Deliver(t, user, testenv.Message("Dee <dee@example.com>", "four", "x"))
	waitSnap(t, sub2, "1 new after restart", newCount("work", 1))
	stop2()
}

// TestManagerErrorAndRecovery: a wrong password is an auth error on that
// account while another account goes on; fixing it recovers.
func TestManagerErrorAndRecovery(t *testing.T) {
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	good := dovecotAccount(d, "good", accounts.POP3, user)
	bad := good
	bad.Name = "bad"
	password := map[string]string{"good": pw, "bad": "wrong"}
	opts := func(a accounts.Account) *Options {
		return &Options{RootCAs: d.RootCAs, Password: func(context.Context) (string, error) { return password[a.Name], nil }}
	}
	store := mustOpenStore(t, t.TempDir())
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{good, bad}, Store: store,
		CheckerOptions: opts, BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	s := waitSnap(t, sub, "an auth error on bad, good OK", func(s Snapshot) bool {
		return len(s.Accounts) == 2 && s.Accounts[0].State == StateOK && s.Accounts[1].State == StateError
	})
	if k := s.Accounts[1].Err.Kind; k != KindAuth {
		t.Errorf("bad account error kind %v, want auth (%v)", k, s.Accounts[1].Err)
	}
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "one", "x"))
	m.CheckNow("good")
	waitSnap(t, sub, "good sees the mail", newCount("good", 1))
	stop()
}

// TestManagerMarkReadOnServer: the explicit action flags exactly the mails
// of the snapshot the user saw; a later mail stays unread on the server.
func TestManagerMarkReadOnServer(t *testing.T) {
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	a := dovecotAccount(d, "work", accounts.IMAP, user)
	opts := dovecotOptions(d, pw)
	store := mustOpenStore(t, t.TempDir())
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "one", "x"))
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "two", "x"))
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: store, CheckerOptions: opts})
	seen := waitSnap(t, sub, "2 new", newCount("work", 2))
	d.Deliver(t, user, testenv.Message("Cy <cy@example.com>", "three", "x"))
	waitSnap(t, sub, "3 new", newCount("work", 3))
	n, err := m.MarkReadOnServer(context.Background(), seen, "work")
	if err != nil || n != 2 {
		t.Fatalf("MarkReadOnServer = %d, %v; want 2", n, err)
	}
	s := waitSnap(t, sub, "1 new and 1 unread on the server", func(s Snapshot) bool {
		return newCount("work", 1)(s) && s.Accounts[0].Unread == 1
	})
	if s.Accounts[0].Mails[0].Subject != "three" {
		t.Errorf("the new mail is %q, want three", s.Accounts[0].Mails[0].Subject)
	}
	out := d.Doveadm(t, "fetch", "-u", user, "flags", "mailbox", "INBOX", "unseen")
	if strings.Count(out, "flags:") != 1 {
		t.Errorf("unseen on the server after marking 2 of 3:\n%s", out)
	}
	stop()
}

// TestManagerSeesMarkReadOfAnotherProcess: `mailsneaker mark-read` (here a
// second store and manager on the same state dir, as another process has)
// promotes the mail; the running manager's count follows without losing it.
func TestManagerSeesMarkReadOfAnotherProcess(t *testing.T) {
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	a := dovecotAccount(d, "pop", accounts.POP3, user)
	a.CountExisting = true
	opts := dovecotOptions(d, pw)
	dir := t.TempDir()
	store := mustOpenStore(t, dir)
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "one", "x"))
	_, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: store,
		CheckerOptions: opts, Tick: 50 * time.Millisecond})
	waitSnap(t, sub, "1 new", newCount("pop", 1))

	other := mustOpenStore(t, dir)
	_, n, err := NewManager(ManagerOptions{Accounts: []accounts.Account{a}, Store: other, CheckerOptions: opts}).
		MarkReadOnce(context.Background(), "", false)
	if err != nil || n != 1 {
		t.Fatalf("MarkReadOnce = %d, %v; want 1", n, err)
	}
	waitSnap(t, sub, "0 new after the other process marked it", newCount("pop", 0))
	stop()
	if got := len(store.Account("pop").IDs); got != 1 {
		t.Errorf("seen set has %d ids after both processes saved, want 1", got)
	}
}
