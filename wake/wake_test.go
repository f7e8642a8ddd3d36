package wake

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsneaker/internal/testenv"
)

// fakeService owns name on the bus at addr, as logind or NetworkManager
// does on the system bus, and emits its signals.
func fakeService(t *testing.T, addr, name string) *dbus.Conn {
	t.Helper()
	c := testenv.Connect(t, addr)
	reply, err := c.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v, %v", name, reply, err)
	}
	return c
}

func emit(t *testing.T, c *dbus.Conn, path dbus.ObjectPath, name string, v any) {
	t.Helper()
	if err := c.Emit(path, name, v); err != nil {
		t.Fatalf("emit %s: %v", name, err)
	}
}

func next(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("the events channel closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return 0
}

// TestWatch: the signals of the owners of logind's and NetworkManager's
// names become Events in order; other NetworkManager states, and the same
// signals from a process that owns neither name, are ignored; the channel
// closes when ctx ends.
func TestWatch(t *testing.T) {
	addr := testenv.SessionBus(t, false) // plays the system bus
	login1 := fakeService(t, addr, login1Name)
	nm := fakeService(t, addr, nmName)
	impostor := testenv.Connect(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := Watch(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	sleep := login1Iface + "." + sleepMember
	state := nmIface + "." + nmStateMember
	emit(t, impostor, login1Path, sleep, true)
	emit(t, login1, login1Path, sleep, true)
	if e := next(t, events); e != Sleep {
		t.Fatalf("first event %v, want sleep (an impostor's signal came through?)", e)
	}
	emit(t, nm, nmPath, state, uint32(20)) // disconnected
	emit(t, login1, login1Path, sleep, false)
	if e := next(t, events); e != Resume {
		t.Fatalf("event %v, want resume", e)
	}
	emit(t, impostor, nmPath, state, uint32(nmConnectedGlobal))
	emit(t, nm, nmPath, state, uint32(60)) // connected-site: not yet online
	emit(t, nm, nmPath, state, uint32(nmConnectedGlobal))
	if e := next(t, events); e != Online {
		t.Fatalf("event %v, want online", e)
	}
	// A signal addressed to the watcher alone passes every match rule:
	// it must not pass as logind's.
	msg := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:        dbus.MakeVariant(login1Path),
		dbus.FieldInterface:   dbus.MakeVariant(login1Iface),
		dbus.FieldMember:      dbus.MakeVariant(sleepMember),
		dbus.FieldDestination: dbus.MakeVariant(watcherName(t, impostor, login1, nm, impostor)),
		dbus.FieldSignature:   dbus.MakeVariant(dbus.SignatureOf(true)),
	}, Body: []any{true}}
	if call := impostor.Send(msg, nil); call.Err != nil {
		t.Fatal(call.Err)
	}
	emit(t, nm, nmPath, state, uint32(nmConnectedGlobal))
	if e := next(t, events); e != Online {
		t.Fatalf("event %v, want online (the directed impostor's sleep came through?)", e)
	}
	cancel()
	select {
	case e, ok := <-events:
		if ok {
			t.Fatalf("event %v after cancel, want the channel closed", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the events channel did not close after cancel")
	}
}

// watcherName is the unique name on the bus of the one connection that is
// none of others: Watch's.
func watcherName(t *testing.T, c *dbus.Conn, others ...*dbus.Conn) string {
	t.Helper()
	known := map[string]bool{}
	for _, o := range others {
		for _, n := range o.Names() {
			known[n] = true
		}
	}
	var names []string
	if err := c.BusObject().Call("org.freedesktop.DBus.ListNames", 0).Store(&names); err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, n := range names {
		if n[0] == ':' && !known[n] {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		t.Fatalf("unique names besides the test's: %v, want one", found)
	}
	return found[0]
}

// TestWatchNoBus: without a system bus Watch fails at once, and Follow
// returns.
func TestWatchNoBus(t *testing.T) {
	addr := "unix:path=" + t.TempDir() + "/none"
	if _, err := Watch(context.Background(), addr); err == nil {
		t.Fatal("Watch on a missing bus succeeded")
	}
}

// recTarget records the calls Follow makes.
type recTarget struct{ calls chan string }

func (r *recTarget) Sleep(context.Context) error     { r.calls <- "sleep"; return nil }
func (r *recTarget) Reconnect(context.Context) error { r.calls <- "reconnect"; return nil }

// TestDriveBusLostWhileAsleep: Sleep, then Resume and Online, map to the
// target's commands; the sleep delay lock is held while awake and released
// once Sleep returned; when the bus goes away after a Sleep the target is
// reconnected, so that no account waits for a Resume that will not come.
func TestDriveBusLostWhileAsleep(t *testing.T) {
	ch := make(chan Event, 4)
	ch <- Sleep
	ch <- Resume
	ch <- Online
	ch <- Sleep
	close(ch)
	r := &recTarget{calls: make(chan string, 16)}
	drive(context.Background(), slog.New(slog.DiscardHandler), ch, r, func() func() { r.calls <- "lock"; return func() { r.calls <- "release" } })
	close(r.calls)
	var got []string
	for c := range r.calls {
		got = append(got, c)
	}
	want := []string{"lock", "sleep", "release", "reconnect", "lock", "reconnect", "sleep", "release", "reconnect"}
	if !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
}
