package tray

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/poller"
)

// fakeClock is the loop's clock: Now reads t, and each After hands the test
// a timer to fire by hand.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers chan fakeTimer
}

type fakeTimer struct {
	d time.Duration
	c chan time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{t: t, timers: make(chan fakeTimer, 16)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.timers <- fakeTimer{d, ch}
	return ch
}

func (c *fakeClock) install(l *loop) { l.now, l.after = c.Now, c.After }

// nextTimer waits for the loop to set a timer.
func (c *fakeClock) nextTimer(t *testing.T) fakeTimer {
	t.Helper()
	select {
	case tm := <-c.timers:
		return tm
	case <-time.After(5 * time.Second):
		t.Fatal("the loop set no timer")
	}
	return fakeTimer{}
}

// fire moves the clock to when tm ends and fires it.
func (c *fakeClock) fire(tm fakeTimer) {
	c.set(c.Now().Add(tm.d))
	tm.c <- c.Now()
}

// fakePauser behaves like notifier.Batcher: a pause's end stays readable
// after it passed.
type fakePauser struct {
	mu    sync.Mutex
	until time.Time
	calls chan string // "pause <until>", "resume"
}

func (p *fakePauser) PausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.until
}

func (p *fakePauser) Pause(until time.Time) {
	p.mu.Lock()
	p.until = until
	p.mu.Unlock()
	p.calls <- "pause " + until.Format("Jan 2 15:04 MST")
}

func (p *fakePauser) Resume() {
	p.mu.Lock()
	p.until = time.Time{}
	p.mu.Unlock()
	p.calls <- "resume"
}

// fakeToggle is an autostart setting in memory.
type fakeToggle struct {
	mu     sync.Mutex
	on     bool
	getErr error
	setErr error
	sets   chan bool
}

func (f *fakeToggle) toggle() *Toggle {
	return &Toggle{
		Get: func() (bool, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.on, f.getErr
		},
		Set: func(on bool) error {
			f.mu.Lock()
			defer func() { f.mu.Unlock(); f.sets <- on }()
			if f.setErr != nil {
				return f.setErr
			}
			f.on = on
			return nil
		},
	}
}

func (f *fakeToggle) set(on bool, getErr, setErr error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on, f.getErr, f.setErr = on, getErr, setErr
}

func waitSet(t *testing.T, f *fakeToggle) bool {
	t.Helper()
	select {
	case on := <-f.sets:
		return on
	case <-time.After(5 * time.Second):
		t.Fatal("Set was not called")
	}
	return false
}

func waitString(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no %q", want)
	}
}

func TestLoopPause(t *testing.T) {
	zone := time.FixedZone("TST", 3600)
	clk := newFakeClock(time.Date(2026, 3, 14, 14, 0, 0, 0, zone))
	p := &fakePauser{calls: make(chan string, 8)}
	e := newFakeEngine()
	e.publish(snap(1, "a"))
	u, _, _, _ := startLoop(t, e, Options{Pause: p}, clk.install)
	m := u.waitBuilt(t, "1 new mail")
	if want := "Pause notifications\n  For 1 hour\n  Until tomorrow\nAdd account…"; !strings.Contains(m, want) {
		t.Errorf("menu lacks\n%s\nin:\n%s", want, m)
	}

	u.click(t, "Pause notifications", "For 1 hour")
	waitString(t, p.calls, "pause Mar 14 15:00 TST")
	m = u.waitBuilt(t, "1 new mail [-]\nPaused until 15:00 [-]\n")
	if !strings.Contains(m, "  Until tomorrow\n  Resume\n") {
		t.Errorf("no Resume while paused:\n%s", m)
	}
	// No snapshot comes: the loop's own timer ends the pause on the menu.
	tm := clk.nextTimer(t)
	if tm.d != time.Hour {
		t.Errorf("timer for %v, want 1h", tm.d)
	}
	clk.fire(tm)
	u.waitMenu(t, "without the pause", func(m string) bool {
		return strings.Contains(m, "1 new mail") && !strings.Contains(m, "Paused") && !strings.Contains(m, "Resume")
	})

	// Until tomorrow: at midnight the label drops its "tomorrow".
	u.click(t, "Pause notifications", "Until tomorrow")
	waitString(t, p.calls, "pause Mar 15 08:00 TST")
	u.waitBuilt(t, "Paused until tomorrow 08:00 [-]")
	if tm = clk.nextTimer(t); tm.d != 9*time.Hour {
		t.Errorf("timer for %v, want 9h (midnight)", tm.d)
	}
	clk.fire(tm)
	u.waitBuilt(t, "Paused until 08:00 [-]")
	if tm = clk.nextTimer(t); tm.d != 8*time.Hour {
		t.Errorf("timer for %v, want 8h (the end)", tm.d)
	}

	// A snapshot during the pause keeps the label and sets no new timer.
	e.publish(snap(2, "a", "b"))
	u.waitBuilt(t, "2 new mails [-]\nPaused until 08:00 [-]\n")

	u.click(t, "Pause notifications", "Resume")
	waitString(t, p.calls, "resume")
	u.waitMenu(t, "without the pause", func(m string) bool {
		return strings.Contains(m, "2 new mails") && !strings.Contains(m, "Paused") && !strings.Contains(m, "Resume")
	})
	select {
	case tm := <-clk.timers:
		t.Errorf("a timer for %v was set while the pause's end had not changed", tm.d)
	default:
	}
}

func TestLoopAutostart(t *testing.T) {
	f := &fakeToggle{sets: make(chan bool, 8)}
	notes := make(chan string, 8)
	e := newFakeEngine()
	e.publish(snap(1, "a"))
	u, _, _, _ := startLoop(t, e, Options{Autostart: f.toggle(), Notice: func(s string) { notes <- s }})
	m := u.waitBuilt(t, "1 new mail")
	if !strings.Contains(m, "Check now\nStart at login [ ]\nAdd account…") {
		t.Errorf("no unchecked Start at login:\n%s", m)
	}

	u.click(t, "Start at login")
	if on := waitSet(t, f); !on {
		t.Error("Set(false) on an unchecked item")
	}
	u.waitBuilt(t, "Start at login [x]")
	u.click(t, "Start at login")
	if on := waitSet(t, f); on {
		t.Error("Set(true) on a checked item")
	}
	u.waitBuilt(t, "Start at login [ ]")

	// Set fails: the user is told, and the menu is drawn again with what
	// Get reads, even though nothing changed.
	f.set(false, nil, errors.New("read-only file system"))
	u.click(t, "Start at login")
	waitSet(t, f)
	waitString(t, notes, "Could not turn on Start at login: read-only file system")
	u.waitBuilt(t, "Start at login [ ]")

	// Get fails: told once, the last state read stays.
	f.set(true, errors.New("permission denied"), nil)
	e.publish(snap(2, "a", "b"))
	waitString(t, notes, "Could not read the Start at login setting: permission denied")
	u.waitBuilt(t, "2 new mails")
	e.publish(snap(3, "a", "b", "c"))
	m = u.waitBuilt(t, "3 new mails")
	if !strings.Contains(m, "Start at login [ ]") {
		t.Errorf("a failed Get changed the check box:\n%s", m)
	}
	if len(notes) > 0 {
		t.Errorf("the same Get error was passed on again: %q", <-notes)
	}

	// A change made elsewhere shows at the next snapshot.
	f.set(true, nil, nil)
	e.publish(snap(4, "a"))
	u.waitBuilt(t, "Start at login [x]")
}

func TestLoopMarkOnServer(t *testing.T) {
	type call struct {
		seen    poller.Snapshot
		account string
	}
	calls := make(chan call, 4)
	var mu sync.Mutex
	var markErr error
	notes := make(chan string, 8)
	e := newFakeEngine()
	s := snap(1, "a")
	s.Accounts[0].Protocol = "imap"
	s.Accounts = append(s.Accounts, poller.AccountSnapshot{Name: "pop", Protocol: "pop3", State: poller.StateOK,
		New: 1, NewIDs: []string{"p"}})
	s.Total = 2
	e.publish(s)
	u, _, _, _ := startLoop(t, e, Options{
		Notice: func(s string) { notes <- s },
		MarkOnServer: func(ctx context.Context, seen poller.Snapshot, account string) (int, error) {
			calls <- call{seen, account}
			mu.Lock()
			defer mu.Unlock()
			return 1, markErr
		},
	})
	m := u.waitBuilt(t, "2 new mails")
	if n := strings.Count(m, "Mark read on server"); n != 1 {
		t.Errorf("%d Mark read on server items, want 1 (IMAP only):\n%s", n, m)
	}
	if !strings.Contains(m, "  Mark read\n  Mark read on server\n  Edit account… [-]\npop — 1 new") {
		t.Errorf("Mark read on server is not in work's submenu:\n%s", m)
	}

	u.click(t, "work — 1 new", "Mark read on server")
	select {
	case c := <-calls:
		if c.account != "work" || !reflect.DeepEqual(c.seen, s) {
			t.Errorf("MarkOnServer(%d, %q), want the drawn snapshot 1 and work", c.seen.Seq, c.account)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("MarkOnServer was not called")
	}

	mu.Lock()
	markErr = errors.New("mark read on work: connection refused")
	mu.Unlock()
	u.click(t, "work — 1 new", "Mark read on server")
	select {
	case <-calls:
	case <-time.After(5 * time.Second):
		t.Fatal("MarkOnServer was not called again")
	}
	waitString(t, notes, "Could not mark mail read on the server: mark read on work: connection refused")
}
