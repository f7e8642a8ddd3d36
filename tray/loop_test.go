package tray

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
)

// fakeEngine records commands; tests publish snapshots on snaps.
type fakeEngine struct {
	snaps   chan poller.Snapshot
	marks   chan markCall
	checks  chan string
	markErr error
}

type markCall struct {
	seen    poller.Snapshot
	account string
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{snaps: make(chan poller.Snapshot, 1), marks: make(chan markCall, 8), checks: make(chan string, 8)}
}

func (e *fakeEngine) Snapshots(context.Context) <-chan poller.Snapshot { return e.snaps }

func (e *fakeEngine) MarkRead(ctx context.Context, seen poller.Snapshot, account string) (int, error) {
	e.marks <- markCall{seen, account}
	return len(seen.Accounts), e.markErr
}

func (e *fakeEngine) CheckNow(account string) error { e.checks <- account; return nil }

// publish replaces any snapshot not yet taken, like the manager does.
func (e *fakeEngine) publish(s poller.Snapshot) {
	for {
		select {
		case e.snaps <- s:
			return
		default:
			select {
			case <-e.snaps:
			default:
			}
		}
	}
}

// waitTaken waits until the loop has taken the published snapshot.
func (e *fakeEngine) waitTaken(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, func() bool { return len(e.snaps) == 0 }, "the loop to take the snapshot")
}

// fakeUI keeps the menu as a tree and reports each finished build.
type fakeUI struct {
	mu      sync.Mutex
	root    *fakeItem
	title   string
	tooltip string
	icons   int
	resets  int
	built   chan string // the menu, rendered, after each build
}

type fakeItem struct {
	label     string
	disabled  bool
	checkable bool
	checked   bool
	sep       bool
	clicked   chan struct{}
	children  []*fakeItem
}

func newFakeUI() *fakeUI { return &fakeUI{root: &fakeItem{}, built: make(chan string, 16)} }

func (u *fakeUI) SetIcon([]byte)      { u.mu.Lock(); u.icons++; u.mu.Unlock() }
func (u *fakeUI) SetTitle(s string)   { u.mu.Lock(); u.title = s; u.mu.Unlock() }
func (u *fakeUI) SetTooltip(s string) { u.mu.Lock(); u.tooltip = s; u.mu.Unlock() }

func (u *fakeUI) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	var closeAll func(*fakeItem)
	closeAll = func(it *fakeItem) {
		for _, c := range it.children {
			if c.clicked != nil {
				close(c.clicked)
			}
			closeAll(c)
		}
	}
	closeAll(u.root)
	u.root = &fakeItem{}
	u.resets++
}

func (u *fakeUI) Add(parent any, mi Item) (any, <-chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, _ := parent.(*fakeItem)
	if p == nil {
		p = u.root
	}
	it := &fakeItem{label: mi.Label, disabled: mi.Disabled, checkable: mi.Checkable, checked: mi.Checked,
		clicked: make(chan struct{})}
	p.children = append(p.children, it)
	if p == u.root && mi.Label == "Quit" { // always the last item
		var b strings.Builder
		u.render(u.root, 0, &b)
		u.built <- b.String()
	}
	return it, it.clicked
}

func (u *fakeUI) AddSeparator(parent any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, _ := parent.(*fakeItem)
	if p == nil {
		p = u.root
	}
	p.children = append(p.children, &fakeItem{sep: true})
}

func (u *fakeUI) render(it *fakeItem, depth int, b *strings.Builder) {
	for _, c := range it.children {
		b.WriteString(strings.Repeat("  ", depth))
		if c.sep {
			b.WriteString("---")
		} else {
			b.WriteString(c.label)
			if c.disabled {
				b.WriteString(" [-]")
			}
			switch {
			case c.checkable && c.checked:
				b.WriteString(" [x]")
			case c.checkable:
				b.WriteString(" [ ]")
			}
		}
		b.WriteByte('\n')
		u.render(c, depth+1, b)
	}
}

// click clicks the item at path (labels from the top menu down).
func (u *fakeUI) click(t *testing.T, path ...string) {
	t.Helper()
	u.mu.Lock()
	it := u.root
	for _, l := range path {
		i := slices.IndexFunc(it.children, func(c *fakeItem) bool { return c.label == l })
		if i < 0 {
			u.mu.Unlock()
			t.Fatalf("no item %q in path %q", l, path)
		}
		it = it.children[i]
	}
	u.mu.Unlock()
	select {
	case it.clicked <- struct{}{}:
	case <-time.After(5 * time.Second):
		t.Fatalf("nobody listens to clicks on %q", path)
	}
}

// waitBuilt waits for a build whose menu contains want.
func (u *fakeUI) waitBuilt(t *testing.T, want string) string {
	t.Helper()
	return u.waitMenu(t, "with "+strconv.Quote(want), func(m string) bool { return strings.Contains(m, want) })
}

// waitMenu waits for a build whose menu ok accepts.
func (u *fakeUI) waitMenu(t *testing.T, what string, ok func(string) bool) string {
	t.Helper()
	var last strings.Builder
	var got string
	testenv.Eventually(t, 5*time.Second, func() bool {
		for {
			select {
			case m := <-u.built:
				if ok(m) {
					got = m
					return true
				}
				last.Reset()
				last.WriteString(m)
			default:
				return false
			}
		}
	}, "a menu %s; the last built:\n%s", what, &last)
	return got
}

// startLoop runs a loop on a fake ui; the returned func stops it and
// reports whether it ended by Quit. setup, if any, adjusts the loop (its
// clock) before it runs.
func startLoop(t *testing.T, e Engine, o Options, setup ...func(*loop)) (*fakeUI, *loop, context.CancelFunc, <-chan bool) {
	t.Helper()
	u := newFakeUI()
	ctx, cancel := context.WithCancel(context.Background())
	l := newLoop(ctx, e, o, u)
	for _, f := range setup {
		f(l)
	}
	ready := make(chan struct{})
	res := make(chan bool, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		q := l.run(ctx, ready)
		cancel()
		l.wait()
		res <- q
	}()
	<-ready
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("loop did not stop")
		}
	})
	return u, l, cancel, res
}

func snap(seq uint64, newIDs ...string) poller.Snapshot {
	a := poller.AccountSnapshot{Name: "work", State: poller.StateOK, New: len(newIDs), NewIDs: newIDs,
		Checked: time.Date(2026, 1, 2, 3, 4, 0, 0, time.Local)}
	for _, id := range newIDs {
		a.Mails = append(a.Mails, poller.Mail{ID: id, From: "From " + id, Subject: "Subject " + id})
	}
	return poller.Snapshot{Seq: seq, Total: len(newIDs), Accounts: []poller.AccountSnapshot{a}}
}

func TestLoopStartsWithPlaceholder(t *testing.T) {
	e := newFakeEngine()
	u, _, _, _ := startLoop(t, e, Options{})
	u.waitBuilt(t, "Starting…")
	e.publish(snap(1, "a"))
	u.waitBuilt(t, "1 new mail")
}

func TestLoopMarkAllReadUsesDrawnSnapshot(t *testing.T) {
	e := newFakeEngine()
	s1 := snap(1, "a", "b")
	e.publish(s1)
	u, _, _, _ := startLoop(t, e, Options{})
	u.waitBuilt(t, "2 new mails")

	// Same menu, same new mails, later sequence number: nothing is
	// rebuilt, and the menu still acts on the snapshot it was drawn from.
	s2 := snap(2, "a", "b")
	e.publish(s2)
	// A third, different snapshot proves the second was taken and skipped.
	s3 := snap(3, "a", "b", "c")
	e.publish(s3)
	u.waitBuilt(t, "3 new mails")
	u.mu.Lock()
	resets := u.resets
	u.mu.Unlock()
	if resets != 2 {
		t.Errorf("%d rebuilds, want 2 (first snapshot, third)", resets)
	}

	u.click(t, "Mark all read")
	got := waitMark(t, e)
	if got.account != "" || got.seen.Seq != 3 || !slices.Equal(got.seen.Accounts[0].NewIDs, []string{"a", "b", "c"}) {
		t.Errorf("MarkRead(%d, %q, %v), want the drawn snapshot 3 for all", got.seen.Seq, got.account, got.seen.Accounts[0].NewIDs)
	}

	u.click(t, "work — 3 new", "Mark read")
	if got := waitMark(t, e); got.account != "work" || got.seen.Seq != 3 {
		t.Errorf("MarkRead(%d, %q), want 3, work", got.seen.Seq, got.account)
	}
}

func TestLoopKeepsDrawnSnapshotWhenMenuUnchanged(t *testing.T) {
	e := newFakeEngine()
	e.publish(snap(1, "a"))
	u, _, _, _ := startLoop(t, e, Options{})
	u.waitBuilt(t, "1 new mail")
	e.publish(snap(2, "a"))  // draws the same menu
	e.publish(snap(3, "b"))  // a different mail: rebuild
	u.waitBuilt(t, "From b") // 3 is shown
	e.publish(snap(4, "b"))  // same again
	// Once the loop has taken 4 it handles it before it can take a click.
	e.waitTaken(t)
	u.click(t, "Mark all read")
	if got := waitMark(t, e); got.seen.Seq != 3 {
		t.Errorf("MarkRead with snapshot %d, want 3: the one drawn", got.seen.Seq)
	}
}

func TestLoopSkipsStale(t *testing.T) {
	e := newFakeEngine()
	e.publish(snap(5, "a"))
	u, _, _, _ := startLoop(t, e, Options{})
	u.waitBuilt(t, "1 new mail")
	e.publish(snap(4, "a", "b")) // older than what is shown
	e.publish(snap(6, "a", "b", "c"))
	m := u.waitBuilt(t, "new mails")
	if !strings.Contains(m, "3 new mails") {
		t.Errorf("drew a stale snapshot:\n%s", m)
	}
}

func TestLatest(t *testing.T) {
	ch := make(chan poller.Snapshot, 3)
	ch <- snap(2)
	ch <- snap(3)
	if got := latest(snap(1), ch); got.Seq != 3 {
		t.Errorf("latest = %d, want 3", got.Seq)
	}
	if got := latest(snap(7), ch); got.Seq != 7 {
		t.Errorf("latest of empty channel = %d, want 7", got.Seq)
	}
}

func TestLoopCommands(t *testing.T) {
	e := newFakeEngine()
	e.publish(snap(1, "a"))
	added := make(chan bool, 1)
	opened := make(chan string, 1)
	u, _, _, _ := startLoop(t, e, Options{
		AddAccount: func() { added <- true },
		OpenMail:   func(a poller.AccountSnapshot, m poller.Mail) { opened <- a.Name + "/" + m.ID },
	})
	u.waitBuilt(t, "1 new mail")
	u.click(t, "Check now")
	u.click(t, "work — 1 new", "Check now")
	var got []string
	for range 2 {
		select {
		case a := <-e.checks:
			got = append(got, a)
		case <-time.After(5 * time.Second):
			t.Fatal("no CheckNow")
		}
	}
	slices.Sort(got) // each runs on a goroutine of its own
	if !slices.Equal(got, []string{"", "work"}) {
		t.Errorf("CheckNow calls %q, want \"\" and work", got)
	}
	u.click(t, "Add account…")
	u.click(t, "work — 1 new", "From a — Subject a")
	select {
	case <-added:
	case <-time.After(5 * time.Second):
		t.Fatal("AddAccount not called")
	}
	select {
	case got := <-opened:
		if got != "work/a" {
			t.Errorf("OpenMail(%s)", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OpenMail not called")
	}
}

func TestLoopMissingHooksDisable(t *testing.T) {
	e := newFakeEngine()
	e.publish(snap(1, "a"))
	u, _, _, _ := startLoop(t, e, Options{})
	m := u.waitBuilt(t, "1 new mail")
	for _, want := range []string{"Add account… [-]", "From a — Subject a [-]"} {
		if !strings.Contains(m, want) {
			t.Errorf("menu lacks %q:\n%s", want, m)
		}
	}
	for _, hidden := range []string{"Pause", "Start at login", "on server"} {
		if strings.Contains(m, hidden) {
			t.Errorf("menu without its hook shows %q:\n%s", hidden, m)
		}
	}
}

func TestLoopNotices(t *testing.T) {
	e := newFakeEngine()
	notes := make(chan string, 8)
	e.markErr = context.DeadlineExceeded
	s := snap(1, "a")
	s.Accounts[0].Notice = "re-baselined"
	e.publish(s)
	u, _, _, _ := startLoop(t, e, Options{Notice: func(n string) { notes <- n }})
	u.waitBuilt(t, "1 new mail")
	s.Seq = 2
	e.publish(s) // the same notice again: not repeated
	u.click(t, "Mark all read")
	waitMark(t, e)
	for _, want := range []string{"work: re-baselined", "Could not mark mail read: context deadline exceeded"} {
		select {
		case got := <-notes:
			if got != want {
				t.Errorf("notice %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no notice %q", want)
		}
	}
}

func TestLoopQuit(t *testing.T) {
	e := newFakeEngine()
	e.publish(snap(1))
	u, _, _, res := startLoop(t, e, Options{})
	u.waitBuilt(t, "No new mail")
	u.click(t, "Quit")
	select {
	case q := <-res:
		if !q {
			t.Error("run did not report Quit")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Quit did not end the loop")
	}
}

func TestLoopContextCancel(t *testing.T) {
	e := newFakeEngine()
	u, _, cancel, res := startLoop(t, e, Options{})
	u.waitBuilt(t, "Starting…")
	cancel()
	select {
	case q := <-res:
		if q {
			t.Error("cancel reported as Quit")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not end the loop")
	}
}

func TestLoopEngineCloses(t *testing.T) {
	e := newFakeEngine()
	u, _, _, res := startLoop(t, e, Options{})
	u.waitBuilt(t, "Starting…")
	close(e.snaps)
	select {
	case <-res:
	case <-time.After(5 * time.Second):
		t.Fatal("a closed snapshot channel did not end the loop")
	}
}

func waitMark(t *testing.T, e *fakeEngine) markCall {
	t.Helper()
	select {
	case c := <-e.marks:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("MarkRead was not called")
	}
	return markCall{}
}

// TestLoopSetsIconOnEveryRebuild: the icon is set on every rebuild, as
// title and tooltip are, not only when it changes. fyne.io/systray keeps an
// icon set while it is still exporting its D-Bus object only in memory;
// set only on change, the icon of the start stayed lost — a tray item with
// no icon — until the count changed.
func TestLoopSetsIconOnEveryRebuild(t *testing.T) {
	e := newFakeEngine()
	e.publish(snap(1, "a"))
	u, _, _, _ := startLoop(t, e, Options{})
	u.waitBuilt(t, "From a")
	e.publish(snap(2, "b")) // the same icon (1 new), another menu
	u.waitBuilt(t, "From b")
	u.mu.Lock()
	icons, resets := u.icons, u.resets
	u.mu.Unlock()
	if icons != resets {
		t.Errorf("the icon was set %d times in %d rebuilds; want it set on each", icons, resets)
	}
}
