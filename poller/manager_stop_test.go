package poller

import (
	"context"
	"errors"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// stuckChecker's Check ignores ctx until released, as a check blocked in
// I/O until its deadline does: Run's shutdown waits for it.
type stuckChecker struct {
	entered chan struct{}
	release chan struct{}
}

func (c *stuckChecker) Check(ctx context.Context, q Query) (*Inbox, error) {
	select {
	case c.entered <- struct{}{}:
	default:
	}
	<-c.release
	return &Inbox{}, nil
}

func (c *stuckChecker) Wait(ctx context.Context, d time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (c *stuckChecker) Close() error { return nil }

// within runs f and fails the test if it does not return in time.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

// closes waits for ch to be closed, reading what it still holds.
func closes(t *testing.T, ch <-chan Snapshot, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s: the subscription did not close", what)
		}
	}
}

// TestManagerCommandsStopped: once Run is shutting down — here waiting for
// a check that ignores the cancel — every command answers ErrStopped at
// once, issued concurrently, and so does every command after Run returned.
func TestManagerCommandsStopped(t *testing.T) {
	ck := &stuckChecker{entered: make(chan struct{}, 1), release: make(chan struct{})}
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "h", Username: "u", PollInterval: time.Hour}.WithDefaults()
	m := NewManager(ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return ck }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := m.Snapshots(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-ck.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the check did not start")
	}
	cancel()

	bg := context.Background()
	shown := Snapshot{Accounts: []AccountSnapshot{{Name: "a", New: 1, NewIDs: []string{"INBOX/1/1"}}}}
	commands := map[string]func() error{
		"MarkRead": func() error { _, err := m.MarkRead(bg, shown, ""); return err },
		"MarkReadOnServer": func() error {
			_, err := m.MarkReadOnServer(bg, shown, "a")
			return err
		},
		"CheckNow":    func() error { return m.CheckNow("") },
		"SetAccounts": func() error { return m.SetAccounts(bg, nil) },
		"accountsOf":  func() error { _, err := m.accountsOf(bg, shown, ""); return err },
	}

	// Until Run has seen the cancel, a command may still be carried out.
	for {
		err := within(t, "CheckNow after cancel", func() error { return m.CheckNow("") })
		if errors.Is(err, ErrStopped) {
			break
		} else if err != nil {
			t.Fatalf("CheckNow after cancel: %v", err)
		}
	}
	type answer struct {
		name string
		err  error
	}
	answers := make(chan answer, len(commands))
	for name, cmd := range commands {
		go func() { answers <- answer{name, cmd()} }()
	}
	deadline := time.After(10 * time.Second)
	for range commands {
		select {
		case a := <-answers:
			if !errors.Is(a.err, ErrStopped) {
				t.Errorf("%s while Run shuts down: %v, want ErrStopped", a.name, a.err)
			}
		case <-deadline:
			t.Fatal("a command blocked while Run shut down")
		}
	}
	select {
	case <-done:
		t.Fatal("Run returned before the stuck check was released: the commands were not tested during shutdown")
	default:
	}

	close(ck.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the check was released")
	}
	for name, cmd := range commands {
		if err := within(t, name+" after Run", cmd); !errors.Is(err, ErrStopped) {
			t.Errorf("%s after Run: %v, want ErrStopped", name, err)
		}
	}
	closes(t, sub, "after Run returned")
}

// TestSnapshotsEnd: a subscription is closed when its ctx ends, or when Run
// returns; one taken after that holds the last snapshot and is closed.
func TestSnapshotsEnd(t *testing.T) {
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "h", Username: "u", PollInterval: time.Hour}.WithDefaults()
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return listChecker{ids: []string{"x"}} }})
	subCtx, unsubscribe := context.WithCancel(context.Background())
	mine := m.Snapshots(subCtx)
	waitSnap(t, mine, "the first check", newCount("a", 1))
	unsubscribe()
	closes(t, mine, "after its ctx ended")

	gone, cancelGone := context.WithCancel(context.Background())
	cancelGone()
	closes(t, m.Snapshots(gone), "taken with an ended ctx")

	waitSnap(t, sub, "the first check", newCount("a", 1))
	stop()
	closes(t, sub, "after Run returned")

	late := m.Snapshots(context.Background())
	select {
	case s, ok := <-late:
		if !ok || s.Total != 1 {
			t.Fatalf("late subscription: %v %s; want the last snapshot", ok, describe(s))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("late subscription: no snapshot")
	}
	closes(t, late, "taken after Run returned")
}
