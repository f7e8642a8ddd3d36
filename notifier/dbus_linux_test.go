package notifier

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsneaker/accounts"
	"mailsneaker/internal/sessionbus"
	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
)

// notifyCall is one Notify call as the server saw it.
type notifyCall struct {
	AppName, AppIcon, Summary, Body string
	ReplacesID                      uint32
	Actions                         []string
	Hints                           map[string]dbus.Variant
	Timeout                         int32
	ID                              uint32
}

// fakeServer plays org.freedesktop.Notifications.
type fakeServer struct {
	caps   []string
	mu     sync.Mutex
	next   uint32
	calls  chan notifyCall
	closes chan uint32
}

func (s *fakeServer) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	s.next++
	id := s.next
	if replacesID != 0 {
		id = replacesID
	}
	s.mu.Unlock()
	s.calls <- notifyCall{appName, appIcon, summary, body, replacesID, actions, hints, timeout, id}
	return id, nil
}

func (s *fakeServer) CloseNotification(id uint32) *dbus.Error {
	s.closes <- id
	return nil
}

func (s *fakeServer) GetCapabilities() ([]string, *dbus.Error) { return s.caps, nil }

func (s *fakeServer) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "mailsneaker", "0", "1.2", nil
}

// startServer claims the notification service on the bus at addr.
func startServer(t *testing.T, addr string, caps ...string) (*fakeServer, *dbus.Conn) {
	t.Helper()
	c := testenv.Connect(t, addr)
	s := &fakeServer{caps: caps, calls: make(chan notifyCall, 16), closes: make(chan uint32, 16)}
	if err := c.Export(s, busPath, busIface); err != nil {
		t.Fatal(err)
	}
	if r, err := c.RequestName(busName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v %v", r, err)
	}
	return s, c
}

func (s *fakeServer) next1(t *testing.T) notifyCall {
	t.Helper()
	select {
	case c := <-s.calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no Notify call")
	}
	return notifyCall{}
}

type action struct {
	name string
	note Note
}

func TestNotifierShowAndActions(t *testing.T) {
	addr := testenv.SessionBus(t, false)
	srv, srvConn := startServer(t, addr, "actions", "body", "body-markup")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	actions := make(chan action, 4)
	n, err := New(testenv.Connect(t, addr), func(a string, note Note) { actions <- action{a, note} })
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	first := Note{Title: "1 new mail", Body: "Ann <ann@example.com>: Tom & Jerry", IDs: map[string][]string{"home": {"a"}}}
	if err := n.Show(ctx, first); err != nil {
		t.Fatal(err)
	}
	c := srv.next1(t)
	if c.Summary != "1 new mail" || c.Body != "Ann &lt;ann@example.com&gt;: Tom &amp; Jerry" || c.ReplacesID != 0 || c.AppName != appName {
		t.Errorf("first Notify: %+v", c)
	}
	if want := []string{"default", "Open", "mark-read", "Mark read"}; !reflect.DeepEqual(c.Actions, want) {
		t.Errorf("actions %q, want %q", c.Actions, want)
	}
	if v, ok := c.Hints["desktop-entry"].Value().(string); !ok || v != desktopID {
		t.Errorf("desktop-entry hint %v", c.Hints["desktop-entry"])
	}

	second := Note{Title: "2 new mails", Body: "Bob: hi\nCy: yo", IDs: map[string][]string{"home": {"b"}, "work": {"c"}}}
	if err := n.Show(ctx, second); err != nil {
		t.Fatal(err)
	}
	c2 := srv.next1(t)
	if c2.ReplacesID != c.ID || c2.Summary != "2 new mails" || c2.Body != "Bob: hi\nCy: yo" {
		t.Errorf("second Notify should replace %d: %+v", c.ID, c2)
	}

	// Signals from one sender arrive in order: the noise before the click
	// must have been ignored by the time the click is reported.
	emit := func(member string, body ...any) {
		t.Helper()
		if err := srvConn.Emit(busPath, busIface+"."+member, body...); err != nil {
			t.Fatal(err)
		}
	}
	emit("ActionInvoked", c2.ID+100, "mark-read")  // another application's notification
	emit("ActionInvoked", "malformed", uint32(7))  // wrong types: ignored, no panic
	emit("ActionInvoked", c2.ID, "something-else") // an action we never offered
	emit("ActionInvoked", c2.ID, "mark-read")
	emit("ActionInvoked", c2.ID, "default")
	for _, want := range []string{ActionMarkRead, ActionOpen} {
		select {
		case a := <-actions:
			if a.name != want || !reflect.DeepEqual(a.note, second) {
				t.Errorf("onAction(%q, %+v), want %q with the second note", a.name, a.note, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no onAction for %s", want)
		}
	}

	// Once the user closed it, the next note is a new notification.
	emit("NotificationClosed", c2.ID, uint32(2))
	testenv.Eventually(t, 10*time.Second, func() bool { return n.current() == 0 }, "NotificationClosed to be handled")
	if err := n.Show(ctx, first); err != nil {
		t.Fatal(err)
	}
	if c3 := srv.next1(t); c3.ReplacesID != 0 {
		t.Errorf("after close, Notify replaces %d", c3.ReplacesID)
	}
	if err := n.Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.closes:
	case <-time.After(10 * time.Second):
		t.Fatal("Withdraw sent no CloseNotification")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// An impostor that does not own the service name cannot click for the user.
func TestNotifierIgnoresImpostor(t *testing.T) {
	addr := testenv.SessionBus(t, false)
	srv, srvConn := startServer(t, addr, "actions", "body")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	actions := make(chan string, 4)
	n, err := New(testenv.Connect(t, addr), func(a string, _ Note) { actions <- a })
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Show(ctx, Note{Title: "1 new mail", Body: "A & B"}); err != nil {
		t.Fatal(err)
	}
	c := srv.next1(t)
	if c.Body != "A & B" {
		t.Errorf("body %q: escaped for a server without body-markup", c.Body)
	}
	impostor := testenv.Connect(t, addr)
	if err := impostor.Emit(busPath, busIface+".ActionInvoked", c.ID, "mark-read"); err != nil {
		t.Fatal(err)
	}
	// A round trip through the bus: once answered, the bus has routed the
	// impostor's signal, so it reaches the notifier before the server's.
	if err := impostor.BusObject().Call("org.freedesktop.DBus.GetId", 0).Err; err != nil {
		t.Fatal(err)
	}
	if err := srvConn.Emit(busPath, busIface+".ActionInvoked", c.ID, "default"); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-actions:
		if a != ActionOpen {
			t.Fatalf("first action %q came from the impostor", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no onAction")
	}
}

func TestNoServer(t *testing.T) {
	testenv.SessionBus(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Show(ctx, Note{Title: "x"})
	if err == nil || !strings.Contains(err.Error(), "no notification service") {
		t.Fatalf("Show without a server: %v", err)
	}
}

func TestNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ctx := context.Background()
	if _, err := Start(ctx, Options{Batcher: NewBatcher(accounts.General{Notify: true})}); !errors.Is(err, sessionbus.ErrNoSessionBus) {
		t.Fatalf("Start: %v, want ErrNoSessionBus", err)
	}
	if err := Show(ctx, Note{Title: "x"}); err == nil || !strings.Contains(err.Error(), "DBUS_SESSION_BUS_ADDRESS") {
		t.Fatalf("Show: %v", err)
	}
}

// Notifications find the bus where the tray does: with
// DBUS_SESSION_BUS_ADDRESS unset, at $XDG_RUNTIME_DIR/bus (a systemd user
// session's socket). Once they found none there while the tray did.
func TestRuntimeDirBus(t *testing.T) {
	addr := testenv.RuntimeDirBus(t)
	srv, _ := startServer(t, addr, "actions", "body")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Show(ctx, Note{Title: "found"}); err != nil {
		t.Fatalf("Show via $XDG_RUNTIME_DIR/bus: %v", err)
	}
	if c := srv.next1(t); c.Summary != "found" {
		t.Errorf("Notify %+v", c)
	}

	// The whole loop: Start finds the bus, Run shows the second snapshot's
	// new mail and returns when the snapshots end.
	l, err := Start(ctx, Options{Batcher: NewBatcher(accounts.General{Notify: true})})
	if err != nil {
		t.Fatalf("Start via $XDG_RUNTIME_DIR/bus: %v", err)
	}
	snaps := make(chan poller.Snapshot, 2)
	snaps <- snap(acct("home", "a"))
	snaps <- snap(acct("home", "a", "b"))
	close(snaps)
	if err := l.Run(ctx, snaps); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c := srv.next1(t); c.Summary != "1 new mail" || !strings.Contains(c.Body, "Subject b") {
		t.Errorf("Notify %+v", c)
	}
}

// current is the id of the notification on screen.
func (n *Notifier) current() uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

// TestSoundHints: the server sees sound-name for a name, sound-file for a
// file, and suppress-sound when the account has no sound.
func TestSoundHints(t *testing.T) {
	addr := testenv.SessionBus(t, false)
	srv, _ := startServer(t, addr, "actions", "body", "sound")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := New(testenv.Connect(t, addr), func(string, Note) {})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ding := filepath.Join(t.TempDir(), "ding.oga") // a file that is not there is silence
	if err := os.WriteFile(ding, []byte("OggS"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ sound, hint string }{
		{"message-new-email", "sound-name"},
		{ding, "sound-file"},
		{"", "suppress-sound"},
	} {
		if err := n.Show(ctx, Note{Title: "1 new mail", Sound: c.sound}); err != nil {
			t.Fatal(err)
		}
		call := srv.next1(t)
		v, ok := call.Hints[c.hint]
		if !ok {
			t.Errorf("sound %q: no %s hint in %v", c.sound, c.hint, call.Hints)
			continue
		}
		want := any(c.sound)
		if c.sound == "" {
			want = true
		}
		if v.Value() != want {
			t.Errorf("sound %q: %s = %v", c.sound, c.hint, v.Value())
		}
		for _, other := range []string{"sound-name", "sound-file", "suppress-sound"} {
			if _, ok := call.Hints[other]; ok && other != c.hint {
				t.Errorf("sound %q: also %s", c.sound, other)
			}
		}
	}
}

// TestNoNotifyAccountOnTheBus: through the whole loop, mail of a notify =
// false account raises no Notify call; the next mail of another account
// does, with its sound. Calls arrive in order, so the first one seen being
// the loud account's proves the mute one made none.
func TestNoNotifyAccountOnTheBus(t *testing.T) {
	addr := testenv.RuntimeDirBus(t)
	srv, _ := startServer(t, addr, "actions", "body", "sound")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Start(ctx, Options{Batcher: NewBatcher(accounts.General{Notify: true})})
	if err != nil {
		t.Fatal(err)
	}
	mute := func(ids ...string) poller.AccountSnapshot {
		a := acct("mute", ids...)
		a.NoNotify = true
		return a
	}
	loud := func(ids ...string) poller.AccountSnapshot {
		a := acct("loud", ids...)
		a.Sound = "message-new-email"
		return a
	}
	snaps := make(chan poller.Snapshot, 3)
	snaps <- snap(mute(), loud())
	snaps <- snap(mute("m1"), loud())
	snaps <- snap(mute("m1"), loud("l1"))
	close(snaps)
	if err := l.Run(ctx, snaps); err != nil {
		t.Fatal(err)
	}
	c := srv.next1(t)
	if !strings.Contains(c.Body, "Subject l1") || strings.Contains(c.Body, "m1") {
		t.Fatalf("first Notify %+v: want the loud account's l1 only", c)
	}
	if v := c.Hints["sound-name"]; v.Value() != "message-new-email" {
		t.Errorf("sound-name hint %v", v)
	}
}
