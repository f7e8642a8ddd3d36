package tray

import (
	"strings"
	"testing"
	"time"

	"mailsneaker/poller"
)

func findItem(items []Item, label string) (Item, bool) {
	for _, it := range items {
		if it.Label == label {
			return it, true
		}
		if c, ok := findItem(it.Children, label); ok {
			return c, true
		}
	}
	return Item{}, false
}

func TestViewAccountControls(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	s := poller.Snapshot{Total: 3, Accounts: []poller.AccountSnapshot{
		{Name: "work", Protocol: "imap", State: poller.StateOK, New: 3, NewIDs: []string{"a", "b", "c"}, Ignored: 2, IgnoredIDs: []string{"x", "y"}, Checked: now},
		{Name: "home", Protocol: "pop3", Paused: true},
	}}
	m := View(s, ViewState{Now: now, AccountPause: true})
	if got := m.Items[0].Label; got != "3 new mails (2 ignored)" {
		t.Errorf("headline %q", got)
	}
	work, ok := findItem(m.Items, "work — 3 new (2 ignored)")
	if !ok {
		t.Fatalf("no work entry in %+v", m.Items)
	}
	pause, ok := findItem(work.Children, "Pause")
	if !ok || pause.Action != (Action{Kind: ActSetEnabled, Account: "work", On: false}) {
		t.Errorf("work's Pause: %+v %v", pause, ok)
	}
	home, ok := findItem(m.Items, "home — Paused")
	if !ok || home.Disabled {
		t.Fatalf("paused home: %+v %v (its entry must open its submenu)", home, ok)
	}
	if l, ok := findItem(home.Children, "Paused: not checked, no connection"); !ok || !l.Disabled {
		t.Errorf("paused line %+v %v", l, ok)
	}
	if r, ok := findItem(home.Children, "Resume"); !ok || r.Action != (Action{Kind: ActSetEnabled, Account: "home", On: true}) {
		t.Errorf("Resume %+v %v", r, ok)
	}
	if _, ok := findItem(home.Children, "Check now"); ok {
		t.Error("a paused account offers Check now")
	}
	if !strings.Contains(m.Tooltip, "home: Paused") {
		t.Errorf("tooltip %q", m.Tooltip)
	}
	// Without the hook, no Pause or Resume.
	m = View(s, ViewState{Now: now})
	if _, ok := findItem(m.Items, "Pause"); ok {
		t.Error("Pause without SetEnabled")
	}
	if _, ok := findItem(m.Items, "Resume"); ok {
		t.Error("Resume without SetEnabled")
	}
	// Only ignored mail: the headline still says so.
	s.Total, s.Accounts[0].New, s.Accounts[0].NewIDs = 0, 0, nil
	if got := View(s, ViewState{Now: now}).Items[0].Label; got != "No new mail (2 ignored)" {
		t.Errorf("headline %q", got)
	}
}
