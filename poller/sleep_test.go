package poller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

// connChecker records what the manager does with its connection: Check
// opens one (if none is open), Close drops it, Wait holds it until ctx ends.
type connChecker struct {
	mu     sync.Mutex
	open   bool
	frozen bool // set by the test: a Check now is a defect
	bad    []string
	events chan string // "check fresh" or "check kept" (connection), "wait", "close"
}

func (c *connChecker) Check(ctx context.Context, q Query) (*Inbox, error) {
	c.mu.Lock()
	if c.frozen {
		c.bad = append(c.bad, "a check while the computer sleeps")
	}
	what := "check kept"
	if !c.open {
		what = "check fresh"
	}
	c.open = true
	c.mu.Unlock()
	c.events <- what
	return &Inbox{Unread: -1}, nil
}

func (c *connChecker) Wait(ctx context.Context, d time.Duration) error {
	select {
	case c.events <- "wait":
	case <-ctx.Done():
	}
	<-ctx.Done()
	return ctx.Err()
}

func (c *connChecker) Close() error {
	c.mu.Lock()
	c.open = false
	c.mu.Unlock()
	select {
	case c.events <- "close":
	default: // the final Close after Run; nobody reads any more
	}
	return nil
}

func (c *connChecker) set(frozen bool) {
	c.mu.Lock()
	c.frozen = frozen
	c.mu.Unlock()
}

// expectEvent reads events until want, failing on a deadline; it returns the
// events read on the way.
func expectEvent(t *testing.T, ch <-chan string, want string) []string {
	t.Helper()
	var got []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			got = append(got, e)
			if e == want {
				return got
			}
		case <-deadline:
			t.Fatalf("no %q within 10 s; saw %v", want, got)
		}
	}
}

// TestManagerSleepAndReconnect: Sleep closes the connection, returning
// once it is closed, and no check runs until Reconnect, even when asked to (Check now); Reconnect checks at
// once on a fresh connection. Reconnect without a Sleep (the network came
// back) drops the kept connection too.
func TestManagerSleepAndReconnect(t *testing.T) {
	ck := &connChecker{events: make(chan string, 16)}
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 1, Username: "u",
		PollInterval: time.Hour}.WithDefaults()
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return ck }})
	ctx := context.Background()
	expectEvent(t, ck.events, "wait")
	waitSnap(t, sub, "checked", newCount("a", 0))

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.Sleep(sctx); err != nil {
		t.Fatal(err)
	}
	// Sleep returns once the connection is closed: logind waits for that.
	select {
	case e := <-ck.events:
		if e != "close" {
			t.Fatalf("after Sleep: %q, want close", e)
		}
	default:
		t.Fatal("Sleep returned before the connection was closed")
	}
	ck.set(true)
	// A poke while asleep must not check: the next event after Reconnect
	// tells.
	if err := m.CheckNow(""); err != nil {
		t.Fatal(err)
	}
	if err := m.Sleep(sctx); err != nil { // a second Sleep changes nothing, and does not wait
		t.Fatal(err)
	}
	ck.set(false)
	if err := m.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	// A check made while asleep would show here as check, wait first.
	if got := expectEvent(t, ck.events, "wait"); len(got) != 3 || got[0] != "close" || got[1] != "check fresh" {
		t.Errorf("after Reconnect: %v, want close, check fresh, wait", got)
	}

	// The network came back: the kept connection goes, a fresh one checks.
	if err := m.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if got := expectEvent(t, ck.events, "wait"); len(got) != 3 || got[0] != "close" || got[1] != "check fresh" {
		t.Errorf("Reconnect while awake: %v, want close, check fresh, wait", got)
	}
	stop()
	ck.mu.Lock()
	if len(ck.bad) > 0 {
		t.Errorf("defects: %v", ck.bad)
	}
	ck.mu.Unlock()
	if err := m.Sleep(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Sleep after Run returned = %v, want ErrStopped", err)
	}
	if err := m.Reconnect(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Reconnect after Run returned = %v, want ErrStopped", err)
	}
}

// TestManagerSleepBounded: Sleep waits for an account stuck in a check
// (its I/O deadline not yet run out) only as long as ctx allows; once the
// check ends, the account closes and sleeps all the same.
func TestManagerSleepBounded(t *testing.T) {
	ck := &stuckChecker{entered: make(chan struct{}, 1), release: make(chan struct{})}
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 1, Username: "u",
		PollInterval: time.Hour}.WithDefaults()
	m, _, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return ck }})
	defer stop()
	select {
	case <-ck.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no check within 10 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := m.Sleep(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sleep with an account stuck in a check = %v, want the deadline", err)
	}
	close(ck.release)
	// The account closes once its check ends: a second Sleep sees it.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := m.Sleep(ctx2); err != nil {
		t.Fatalf("Sleep once the check ended = %v", err)
	}
}

// TestManagerSleepAccountRemoved: an account removed (or restarted with new
// settings) while a Sleep waits for its connections still answers that
// Sleep once its goroutine has closed them; Sleep does not wait out its
// deadline for an account that is gone.
func TestManagerSleepAccountRemoved(t *testing.T) {
	ck := &stuckChecker{entered: make(chan struct{}, 1), release: make(chan struct{})}
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 1, Username: "u",
		PollInterval: time.Hour}.WithDefaults()
	m, _, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return ck }})
	defer stop()
	select {
	case <-ck.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no check within 10 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slept := make(chan error, 1)
	go func() { slept <- m.Sleep(ctx) }()
	// The account, stuck in its check, has not answered the Sleep yet.
	testenv.Eventually(t, 5*time.Second, func() bool {
		waiting, err := call(ctx, m, func(st *state) bool { return st.accts["a"].sleepAck != nil })
		return err == nil && waiting
	}, "the Sleep to reach the account")
	if err := m.SetAccounts(ctx, nil); err != nil {
		t.Fatal(err)
	}
	close(ck.release) // the check ends; the removed account's goroutine ends
	if err := <-slept; err != nil {
		t.Fatalf("Sleep with the account removed meanwhile = %v, want nil", err)
	}
}
