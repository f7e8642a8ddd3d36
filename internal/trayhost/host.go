// Package trayhost plays a StatusNotifier tray host on a private D-Bus
// session bus, for tests: it owns org.kde.StatusNotifierWatcher, takes the
// items that register with it, and reads and clicks them the way a panel
// does (item properties, com.canonical.dbusmenu GetLayout and Event). It
// also sorts the race detector's reports of a tray process, since
// fyne.io/systray has data races of its own.
package trayhost

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// D-Bus names of the StatusNotifier protocol and of dbusmenu.
const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	WatcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	WatcherIface = "org.kde.StatusNotifierWatcher"
	ItemIface    = "org.kde.StatusNotifierItem"
	MenuIface    = "com.canonical.dbusmenu"
	// MenuPath is where fyne.io/systray exports the item's menu.
	MenuPath = dbus.ObjectPath("/StatusNotifierItem/menu")
)

// Timeout bounds every wait of the host: long enough for a race-enabled
// tray process on a loaded machine, short enough to fail a hung test.
const Timeout = 15 * time.Second

// Registration is one RegisterStatusNotifierItem call. fyne passes its
// object path, so the item lives on the caller's unique name; other
// implementations pass a bus name and use the default path.
type Registration struct {
	Bus  string
	Path dbus.ObjectPath
}

// Host is the test's tray host on one bus connection.
type Host struct {
	conn *dbus.Conn
	regs chan Registration
	sigs chan *dbus.Signal
}

// watcher is the exported org.kde.StatusNotifierWatcher object.
type watcher struct{ regs chan<- Registration }

func (w watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	r := Registration{Bus: string(sender), Path: dbus.ObjectPath(service)}
	if !strings.HasPrefix(service, "/") {
		r = Registration{Bus: service, Path: "/StatusNotifierItem"}
	}
	select {
	case w.regs <- r:
	default: // a test that lets this many pile up has failed already
	}
	return nil
}

func (w watcher) RegisterStatusNotifierHost(service string) *dbus.Error { return nil }

// Start makes conn the tray host: it subscribes to the signals a host
// follows (the menu's LayoutUpdated, the item's NewTitle), exports the
// watcher and claims its name, in that order, so nothing an item does after
// it sees the watcher is missed.
//
// Start the watcher before the tray when you can: fyne.io/systray
// registers at start if a watcher exists, and otherwise only after it has
// subscribed to the watcher's NameOwnerChanged, missing a watcher that
// appears in between.
func Start(t testing.TB, conn *dbus.Conn) *Host {
	t.Helper()
	// Large enough to keep the order: godbus delivers to a full channel
	// from goroutines of its own.
	h := &Host{conn: conn, regs: make(chan Registration, 16), sigs: make(chan *dbus.Signal, 1<<14)}
	conn.Signal(h.sigs)
	for _, m := range [][]dbus.MatchOption{
		{dbus.WithMatchInterface(MenuIface), dbus.WithMatchMember("LayoutUpdated")},
		{dbus.WithMatchInterface(ItemIface), dbus.WithMatchMember("NewTitle")},
	} {
		if err := conn.AddMatchSignal(m...); err != nil {
			t.Fatalf("subscribe to signals: %v", err)
		}
	}
	if err := conn.Export(watcher{h.regs}, WatcherPath, WatcherIface); err != nil {
		t.Fatal(err)
	}
	_, err := prop.Export(conn, WatcherPath, map[string]map[string]*prop.Prop{WatcherIface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}},
		"IsStatusNotifierHostRegistered": {Value: true},
		"ProtocolVersion":                {Value: int32(0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(WatcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName %s: %v %v", WatcherName, reply, err)
	}
	return h
}

// Registrations delivers every item registration, in order.
func (h *Host) Registrations() <-chan Registration { return h.regs }

// WaitItem waits for the next item to register and returns it; it skips
// registrations of processes that have left the bus since. It fails the test
// if exited (may be nil) closes first: the tray process ended.
func (h *Host) WaitItem(t testing.TB, exited <-chan struct{}) *Item {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		select {
		case r := <-h.regs:
			var has bool
			if err := h.conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, r.Bus).Store(&has); err != nil {
				t.Fatalf("NameHasOwner %s: %v", r.Bus, err)
			}
			if has {
				return h.Item(r)
			}
		case <-exited:
			t.Fatal("the tray process ended before its item registered")
		case <-deadline:
			t.Fatal("no item registered with the watcher")
		}
	}
}

// Item is the registered item r.
func (h *Host) Item(r Registration) *Item {
	return &Item{h: h, Bus: r.Bus, obj: h.conn.Object(r.Bus, r.Path), menu: h.conn.Object(r.Bus, MenuPath)}
}

// Item is one tray icon as the host sees it.
type Item struct {
	h    *Host
	Bus  string // the unique name of the item's connection
	obj  dbus.BusObject
	menu dbus.BusObject
}

// signal waits for the next signal of the item named member (of ItemIface
// or MenuIface) that accept takes, skipping the others; it reports false at
// the deadline. Signals of other items (an earlier process) are dropped.
func (it *Item) signal(member string, deadline <-chan time.Time, accept func(*dbus.Signal) bool) bool {
	for {
		select {
		case s := <-it.h.sigs:
			if s.Sender == it.Bus && strings.HasSuffix(s.Name, "."+member) && (accept == nil || accept(s)) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// Pixmap is one image of the item's IconPixmap: ARGB32, network byte order.
type Pixmap struct {
	W, H int32
	Pix  []byte
}

// Valid reports whether p has a size and exactly the bytes the size needs.
func (p Pixmap) Valid() bool {
	return p.W > 0 && p.H > 0 && len(p.Pix) == int(p.W*p.H*4)
}

// Props are the item's properties a host shows.
type Props struct {
	Title   string
	Tooltip string // the tooltip's title
	Icon    Pixmap // the first IconPixmap; its zero value when there is none
}

// Props reads the item's properties with one Properties.GetAll.
func (it *Item) Props(t testing.TB) Props {
	t.Helper()
	var all map[string]dbus.Variant
	if err := it.obj.Call("org.freedesktop.DBus.Properties.GetAll", 0, ItemIface).Store(&all); err != nil {
		t.Fatalf("GetAll: %v", err)
	}
	var p Props
	p.Title, _ = all["Title"].Value().(string)
	var pms []Pixmap
	if err := dbus.Store([]any{all["IconPixmap"].Value()}, &pms); err != nil {
		t.Fatalf("IconPixmap: %v", err)
	}
	if len(pms) > 0 {
		p.Icon = pms[0]
	}
	var tip struct {
		Name  string
		Icons []Pixmap
		Title string
		Desc  string
	}
	if err := dbus.Store([]any{all["ToolTip"].Value()}, &tip); err != nil {
		t.Fatalf("ToolTip: %v", err)
	}
	p.Tooltip = tip.Title
	return p
}

// WaitProps reads the item's properties until ok accepts them; what names
// the wait in the failure.
func (it *Item) WaitProps(t testing.TB, what string, ok func(Props) bool) Props {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		p := it.Props(t)
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("item never showed %s: title %q tooltip %q", what, p.Title, p.Tooltip)
		}
		<-tick.C
	}
}

// WaitTitle waits until the item's title is title.
func (it *Item) WaitTitle(t testing.TB, title string) Props {
	t.Helper()
	return it.WaitProps(t, "title "+strconv.Quote(title), func(p Props) bool { return p.Title == title })
}
