package tray

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
	"mailsneaker/internal/trayhost"
	"mailsneaker/poller"
)

// The test plays the tray host (internal/trayhost): it owns
// org.kde.StatusNotifierWatcher on a private bus, and reads and clicks the
// item over D-Bus the way a panel does.

func checkMenu(t *testing.T, m trayhost.Menu, want string) {
	t.Helper()
	if got := m.String(); got != want {
		t.Errorf("menu reads:\n%s\nwant:\n%s", got, want)
	}
}

func checkPixmap(t *testing.T, p trayhost.Pixmap) {
	t.Helper()
	if !p.Valid() {
		t.Fatalf("icon pixmap %dx%d with %d bytes", p.W, p.H, len(p.Pix))
	}
}

func TestTrayOnDBus(t *testing.T) {
	addr := testenv.SessionBus(t, false)
	host := testenv.Connect(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if ok, err := HostAvailable(ctx); ok || err != nil {
		t.Fatalf("HostAvailable before any watcher = %v, %v; want false, nil", ok, err)
	}
	h := trayhost.Start(t, host)
	if ok, err := HostAvailable(ctx); !ok || err != nil {
		t.Fatalf("HostAvailable with a watcher = %v, %v; want true, nil", ok, err)
	}

	c := startChild(t)
	var reg trayhost.Registration
	select {
	case reg = <-h.Registrations():
	case m := <-c.msgs:
		t.Fatalf("the tray ended before registering: %+v", m)
	case <-time.After(10 * time.Second):
		t.Fatal("the tray did not register with the watcher")
	}
	item := h.Item(reg)

	s1 := poller.Snapshot{Seq: 1, Total: 2, Accounts: []poller.AccountSnapshot{
		{Name: "work", Protocol: "imap", State: poller.StateOK, New: 2, NewIDs: []string{"w1", "w2"}, Unread: 5, Mails: []poller.Mail{
			{ID: "w2", From: "Alice", Subject: "Lunch?"},
			{ID: "w1", From: "bob_builder", Subject: "Plans"},
		}},
		{Name: "home", Protocol: "pop3", State: poller.StateError, Unread: -1,
			Err: &poller.CheckError{Kind: poller.KindAuth, Msg: "login refused by pop.example.com: check the password"}},
	}}
	c.publish(t, s1)
	p1 := item.WaitTitle(t, "2")
	if want := "2 new mails · 1 account needs attention\nwork: 2 new\nhome: login refused"; p1.Tooltip != want {
		t.Errorf("tooltip %q, want %q", p1.Tooltip, want)
	}
	checkPixmap(t, p1.Icon)

	es := item.ReadMenu(t)
	checkMenu(t, es, `2 new mails · 1 account needs attention [-]
work — 2 new
  Alice — Lunch? [-]
  bob__builder — Plans [-]
  ---
  Checking… [-]
  Check now
  Mark read
  Mark read on server
  Edit account… [-]
home — login refused
  Wrong password, or the server refused the login [-]
  Change password… [-]
  ---
  Failed — next try soon [-]
  Check now
  Mark read [-]
---
Mark all read
Check now
Pause notifications
  For 1 hour
  Until tomorrow
Start at login [ ]
Add account…
Accounts… [-]
Quit
`)
	item.Click(t, es, "Mark all read")
	m := c.next(t, "mark")
	if m.Account != "" || m.Seen == nil || !reflect.DeepEqual(*m.Seen, s1) {
		t.Errorf("MarkRead(%+v, %q), want the snapshot shown (seq 1) for all accounts", m.Seen, m.Account)
	}
	item.Click(t, es, "  Check now") // work's
	if m := c.next(t, "check"); m.Account != "work" {
		t.Errorf("CheckNow(%q), want work", m.Account)
	}
	item.Click(t, es, "  Mark read on server")
	m = c.next(t, "markserver")
	if m.Account != "work" || m.Seen == nil || !reflect.DeepEqual(*m.Seen, s1) {
		t.Errorf("MarkOnServer(%+v, %q), want the snapshot shown (seq 1) for work", m.Seen, m.Account)
	}
	// Last: the pause redraws the menu, and the ids read above go stale.
	before := time.Now()
	item.Click(t, es, "  For 1 hour")
	m = c.next(t, "pause")
	if lo, hi := before.Add(time.Hour), time.Now().Add(time.Hour); m.Until.Before(lo.Truncate(time.Second)) || m.Until.After(hi) {
		t.Errorf("Pause(%v), want an hour from the click (%v)", m.Until, lo)
	}
	paused := "Paused until " + clock(m.Until, time.Now()) + " [-]"

	s2 := poller.Snapshot{Seq: 2, Accounts: []poller.AccountSnapshot{
		{Name: "work", Protocol: "imap", State: poller.StateOK, Unread: 3},
		{Name: "home", Protocol: "pop3", State: poller.StateOK, Unread: -1},
	}}
	c.publish(t, s2)
	p2 := item.WaitTitle(t, "")
	checkPixmap(t, p2.Icon)
	if reflect.DeepEqual(p1.Icon, p2.Icon) {
		t.Error("the icon did not change when the count went to 0")
	}
	if want := "work: no new mail\nhome: no new mail"; p2.Tooltip != want {
		t.Errorf("tooltip %q, want %q", p2.Tooltip, want)
	}
	es = item.ReadMenu(t)
	menu2 := `No new mail [-]
` + paused + `
work — no new mail
  Checking… [-]
  Check now
  Mark read [-]
  Mark read on server [-]
  Edit account… [-]
home — no new mail
  Checking… [-]
  Check now
  Mark read [-]
  Edit account… [-]
---
Mark all read [-]
Check now
Pause notifications
  For 1 hour
  Until tomorrow
  Resume
Start at login [ ]
Add account…
Accounts… [-]
Quit
`
	checkMenu(t, es, menu2)

	// The check box follows what Get reads after Set, with no new snapshot.
	item.Click(t, es, "Start at login [ ]")
	if m := c.next(t, "autostart"); !m.On {
		t.Error("Set(false) from an unchecked Start at login")
	}
	item.WaitDrawn(t)
	es = item.ReadMenu(t)
	checkMenu(t, es, strings.Replace(menu2, "Start at login [ ]", "Start at login [x]", 1))

	item.ClickQuit(t, es, "Quit")
	if m := c.next(t, "exit"); m.Err != "" {
		t.Errorf("Run after Quit = %v, want nil", m.Err)
	}
	if m := c.next(t, "exit2"); m.Err != ErrRunTwice.Error() {
		t.Errorf("second Run = %v, want ErrRunTwice", m.Err)
	}
	c.wait(t)
}

func TestHostAvailableNoBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ok, err := HostAvailable(context.Background())
	if ok || err != ErrNoSessionBus {
		t.Errorf("HostAvailable without a bus = %v, %v; want false, ErrNoSessionBus", ok, err)
	}
}

// The tray runs in a child process, the test binary started again with
// childEnv set: systray keeps its state in package variables and runs once
// per process, and under -race the child's reports are sorted here (see
// trayhost.CheckRaces) instead of failing whatever test happens to be running.
const childEnv = "MAILSNEAKER_TRAY_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(trayChild())
	}
	os.Exit(m.Run())
}

// childMsg is one line the child writes: what the engine or a hook was
// asked to do.
type childMsg struct {
	Op      string           // "mark", "check", "markserver", "autostart", "pause", "resume", "exit" (Run returned), "exit2" (a second Run)
	Account string           `json:",omitempty"`
	Seen    *poller.Snapshot `json:",omitempty"`
	On      bool             `json:",omitempty"`
	Until   time.Time        `json:",omitzero"`
	Err     string           `json:",omitempty"`
}

// childEngine publishes the snapshots read from stdin and reports every
// command on stdout.
type childEngine struct {
	snaps chan poller.Snapshot
	mu    sync.Mutex
	out   *json.Encoder
}

func (e *childEngine) Snapshots(context.Context) <-chan poller.Snapshot { return e.snaps }

func (e *childEngine) MarkRead(ctx context.Context, seen poller.Snapshot, account string) (int, error) {
	e.send(childMsg{Op: "mark", Account: account, Seen: &seen})
	return seen.Total, nil
}

func (e *childEngine) CheckNow(account string) error {
	e.send(childMsg{Op: "check", Account: account})
	return nil
}

func (e *childEngine) send(m childMsg) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.out.Encode(m)
}

// childSettings are the child's Start at login and pause, in memory; each
// change is reported after it is made, so the redraw that follows sees it.
type childSettings struct {
	e     *childEngine
	mu    sync.Mutex
	on    bool
	until time.Time
}

func (c *childSettings) toggle() *Toggle {
	return &Toggle{
		Get: func() (bool, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.on, nil
		},
		Set: func(on bool) error {
			c.mu.Lock()
			c.on = on
			c.mu.Unlock()
			c.e.send(childMsg{Op: "autostart", On: on})
			return nil
		},
	}
}

func (c *childSettings) PausedUntil() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.until
}

func (c *childSettings) Pause(until time.Time) {
	c.mu.Lock()
	c.until = until
	c.mu.Unlock()
	c.e.send(childMsg{Op: "pause", Until: until})
}

func (c *childSettings) Resume() {
	c.mu.Lock()
	c.until = time.Time{}
	c.mu.Unlock()
	c.e.send(childMsg{Op: "resume"})
}

func (e *childEngine) markOnServer(ctx context.Context, seen poller.Snapshot, account string) (int, error) {
	e.send(childMsg{Op: "markserver", Account: account, Seen: &seen})
	return seen.Total, nil
}

func trayChild() int {
	e := &childEngine{snaps: make(chan poller.Snapshot, 1), out: json.NewEncoder(os.Stdout)}
	go func() {
		dec := json.NewDecoder(os.Stdin)
		for {
			var s poller.Snapshot
			if err := dec.Decode(&s); err != nil {
				return
			}
			select { // keep only the latest, like the manager
			case <-e.snaps:
			default:
			}
			e.snaps <- s
		}
	}()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	set := &childSettings{e: e}
	err := Run(context.Background(), e, Options{AddAccount: func() {}, Logger: log,
		Autostart: set.toggle(), Pause: set, MarkOnServer: e.markOnServer})
	msg := childMsg{Op: "exit"}
	if err != nil {
		msg.Err = err.Error()
	}
	e.send(msg)
	msg = childMsg{Op: "exit2"}
	if err := Run(context.Background(), e, Options{}); err != nil {
		msg.Err = err.Error()
	}
	e.send(msg)
	return 0
}

// child is the running tray process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	msgs   chan childMsg
	stderr bytes.Buffer
	done   chan struct{}
}

func startChild(t *testing.T) *child {
	t.Helper()
	c := &child{msgs: make(chan childMsg, 16), done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	// The race detector must not turn the child's exit status into a
	// failure: trayhost.CheckRaces judges its reports.
	c.cmd.Env = append(os.Environ(), childEnv+"=1", "GORACE=exitcode=0 halt_on_error=0")
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m childMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				continue // not ours (the testing package's own output)
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() {
		c.stdin.Close()
		c.cmd.Process.Kill()
		<-c.done
		c.cmd.Wait()
		if t.Failed() {
			t.Logf("tray process stderr:\n%s", c.stderr.String())
		}
	})
	return c
}

func (c *child) publish(t *testing.T, s poller.Snapshot) {
	t.Helper()
	if err := json.NewEncoder(c.stdin).Encode(s); err != nil {
		t.Fatalf("send snapshot: %v", err)
	}
}

// next waits for the child's next message and checks its kind.
func (c *child) next(t *testing.T, op string) childMsg {
	t.Helper()
	select {
	case m := <-c.msgs:
		if m.Op != op {
			t.Fatalf("the tray reported %+v, want %s", m, op)
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatalf("the tray reported no %s", op)
	}
	return childMsg{}
}

// wait waits for the child to exit and checks its race reports.
func (c *child) wait(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the tray process did not exit")
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("tray process: %v", err)
	}
	trayhost.CheckRaces(t, c.stderr.String())
}
