package trayhost

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Entry is one menu line as a host shows it.
type Entry struct {
	ID    int32
	Depth int    // 0 in the top menu, 1 in a submenu of it, …
	Label string // as sent: dbusmenu writes a literal "_" as "__"; "" for a separator
	// Line is Label indented two spaces per Depth, with " [-]" when
	// disabled and " [x]" or " [ ]" for a check box; "---" for a separator.
	Line string
}

// Menu is a whole menu, depth first: the label tree as lines.
type Menu []Entry

// String is the menu one Line per line, each ending in a newline.
func (m Menu) String() string {
	var b strings.Builder
	for _, e := range m {
		b.WriteString(e.Line + "\n")
	}
	return b.String()
}

// Find returns the first entry whose Line is line.
func (m Menu) Find(line string) (Entry, bool) {
	for _, e := range m {
		if e.Line == line {
			return e, true
		}
	}
	return Entry{}, false
}

// Under returns the entries nested under the first entry whose Line is
// line (its submenu, lines unchanged), or nil when there is no such entry.
func (m Menu) Under(line string) Menu {
	for i, e := range m {
		if e.Line != line {
			continue
		}
		j := i + 1
		for j < len(m) && m[j].Depth > e.Depth {
			j++
		}
		return m[i+1 : j]
	}
	return nil
}

// layoutNode is a dbusmenu layout, (ia{sv}av).
type layoutNode struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// flatten appends n's children to out and reports whether every submenu
// came with its items: fyne answers the first GetLayout after a rebuild
// with the top level only, its submenus marked but empty.
func flatten(n layoutNode, depth int, out *Menu) (complete bool) {
	complete = true
	for _, c := range n.Children {
		var child layoutNode
		if err := dbus.Store([]any{c.Value()}, &child); err != nil {
			v := c.Value().([]any)
			child = layoutNode{ID: v[0].(int32), Props: v[1].(map[string]dbus.Variant), Children: v[2].([]dbus.Variant)}
		}
		e := Entry{ID: child.ID, Depth: depth}
		line := strings.Repeat("  ", depth)
		if ty, _ := child.Props["type"].Value().(string); ty == "separator" {
			line += "---"
		} else {
			e.Label, _ = child.Props["label"].Value().(string)
			line += e.Label
			if en, ok := child.Props["enabled"].Value().(bool); ok && !en {
				line += " [-]"
			}
			if tt, _ := child.Props["toggle-type"].Value().(string); tt == "checkmark" {
				if v := child.Props["toggle-state"].Value(); v != nil && fmt.Sprint(v) != "0" {
					line += " [x]"
				} else {
					line += " [ ]"
				}
			}
		}
		e.Line = line
		*out = append(*out, e)
		if cd, _ := child.Props["children-display"].Value().(string); cd == "submenu" && len(child.Children) == 0 {
			complete = false
		}
		if !flatten(child, depth+1, out) {
			complete = false
		}
	}
	return complete
}

// Layout reads the whole menu with one GetLayout(0, -1, []) and reports
// its revision and whether it came complete (see ReadMenu).
func (it *Item) Layout(t testing.TB) (rev uint32, m Menu, complete bool) {
	t.Helper()
	var root layoutNode
	if err := it.menu.Call(MenuIface+".GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	complete = flatten(root, 0, &m)
	return rev, m, complete
}

// ReadMenu reads the menu the way a host does, after the tray finished a
// rebuild (its title changed, or WaitDrawn returned). fyne answers the
// first GetLayout after a rebuild with the top level only, then announces
// the full menu with LayoutUpdated ~150 ms later; the host asks again after
// that signal. (Asking again before it would also race with fyne's timer
// goroutine, which bumps the revision without the lock GetLayout holds.)
func (it *Item) ReadMenu(t testing.TB) Menu {
	t.Helper()
	return it.WaitMenu(t, "a complete menu", nil)
}

// WaitMenu reads the menu until it is complete and ok (nil: any) accepts
// it, asking again after each LayoutUpdated of a newer revision: every
// change to the menu announces itself so. what names the wait in the
// failure. A read during a rebuild sees the first part of the new menu, so
// ok should recognise a whole menu (compare all of it, or its last entry),
// unless the rebuild is known to be over (the title changed).
func (it *Item) WaitMenu(t testing.TB, what string, ok func(Menu) bool) Menu {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		rev, m, complete := it.Layout(t)
		if complete && (ok == nil || ok(m)) {
			return m
		}
		newer := func(s *dbus.Signal) bool {
			if len(s.Body) == 0 {
				return false
			}
			r, isRev := s.Body[0].(uint32)
			return isRev && r > rev
		}
		if !it.signal("LayoutUpdated", deadline, newer) {
			t.Fatalf("the menu never showed %s; last read (revision %d):\n%s", what, rev, m)
		}
	}
}

// WaitDrawn waits for the item's next NewTitle signal, which ends every
// rebuild of a MailSneaker tray (it sets the title last): a host sees a
// rebuild that changes no title this way. Signals from one sender arrive in
// order, and ReadMenu consumed those of earlier rebuilds.
func (it *Item) WaitDrawn(t testing.TB) {
	t.Helper()
	if !it.signal("NewTitle", time.After(Timeout), nil) {
		t.Fatal("the menu was not drawn again")
	}
}

// Click clicks the first entry of m whose Line is line, with a dbusmenu
// Event as a host sends it.
func (it *Item) Click(t testing.TB, m Menu, line string) {
	t.Helper()
	it.click(t, m, line, false)
}

func (it *Item) click(t testing.TB, m Menu, line string, exits bool) {
	t.Helper()
	e, ok := m.Find(line)
	if !ok {
		t.Fatalf("no menu line %q in:\n%s", line, m)
	}
	call := it.menu.Call(MenuIface+".Event", 0, e.ID, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix()))
	var derr dbus.Error
	if call.Err != nil && !(exits && errors.As(call.Err, &derr) && derr.Name == "org.freedesktop.DBus.Error.NoReply") {
		t.Fatalf("Event(clicked %q): %v", line, call.Err)
	}
}

// ClickQuit clicks an item that ends the app: the app may leave the bus
// before it answers the click, which is then no error.
func (it *Item) ClickQuit(t testing.TB, m Menu, line string) {
	t.Helper()
	it.click(t, m, line, true)
}
