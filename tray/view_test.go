package tray

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"mailsneaker/icons"
	"mailsneaker/poller"
)

var now = time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC)

// render writes a menu as indented lines: "[-]" marks a disabled item,
// "[x]" and "[ ]" a check box, "---" a separator, "{kind acct id}" an
// action ("{kind acct id on}" with On set; empty fields left out).
// actionString is "kind acct id on" without the empty parts: "checknow work".
func actionString(a Action) string {
	parts := []string{a.Kind.String()}
	for _, p := range []string{a.Account, a.MailID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if a.On {
		parts = append(parts, "on")
	}
	return strings.Join(parts, " ")
}

func render(items []Item, depth int, b *strings.Builder) {
	for _, it := range items {
		b.WriteString(strings.Repeat("  ", depth))
		switch {
		case it.Separator:
			b.WriteString("---")
		default:
			b.WriteString(it.Label)
			if it.Disabled {
				b.WriteString(" [-]")
			}
			switch {
			case it.Checkable && it.Checked:
				b.WriteString(" [x]")
			case it.Checkable:
				b.WriteString(" [ ]")
			}
			if it.Action.Kind != ActNone {
				b.WriteString(" {" + actionString(it.Action) + "}")
			}
		}
		b.WriteByte('\n')
		render(it.Children, depth+1, b)
	}
}

func mails(n int) []poller.Mail {
	var ms []poller.Mail
	for i := range n {
		ms = append(ms, poller.Mail{ID: fmt.Sprintf("m%d", i), From: fmt.Sprintf("Sender %d", i), Subject: fmt.Sprintf("Subject %d", i)})
	}
	return ms
}

func TestView(t *testing.T) {
	checked := now.Add(-4 * time.Minute)
	tests := []struct {
		name    string
		snap    poller.Snapshot
		st      ViewState // Now defaults to now
		title   string
		tooltip string
		icon    icons.State
		menu    string
	}{
		{
			name:    "no accounts",
			snap:    poller.Snapshot{},
			tooltip: "MailSneaker: no accounts",
			icon:    icons.State{Offline: true},
			menu: `No accounts set up [-]
---
Mark all read [-] {markread}
Check now [-] {checknow}
Add account… {addaccount}
Accounts… [-] {accounts}
Quit {quit}
`,
		},
		{
			name: "one account, nothing new",
			snap: poller.Snapshot{Accounts: []poller.AccountSnapshot{
				{Name: "work", State: poller.StateOK, Checked: checked},
			}},
			tooltip: "work: no new mail",
			menu: `No new mail [-]
work — no new mail
  Last checked 15:05 [-]
  Check now {checknow work}
  Mark read [-] {markread work}
  Edit account… {editaccount work}
---
Mark all read [-] {markread}
Check now {checknow}
Add account… {addaccount}
Accounts… {accounts}
Quit {quit}
`,
		},
		{
			name: "one new mail, one starting",
			snap: poller.Snapshot{Total: 1, Accounts: []poller.AccountSnapshot{
				{Name: "work", State: poller.StateOK, New: 1, NewIDs: []string{"a"}, Checked: checked,
					Mails: []poller.Mail{{ID: "a", From: "Alice", Subject: "Lunch?"}}},
				{Name: "home", State: poller.StateStarting},
			}},
			title:   "1",
			tooltip: "work: 1 new\nhome: checking…",
			icon:    icons.State{Count: 1},
			menu: `1 new mail [-]
work — 1 new
  Alice — Lunch? {openmail work a}
  ---
  Last checked 15:05 [-]
  Check now {checknow work}
  Mark read {markread work}
  Edit account… {editaccount work}
home — checking…
  Checking… [-]
  Check now {checknow home}
  Mark read [-] {markread home}
  Edit account… {editaccount home}
---
Mark all read {markread}
Check now {checknow}
Add account… {addaccount}
Accounts… {accounts}
Quit {quit}
`,
		},
		{
			name: "many mails, an error, a long subject",
			snap: poller.Snapshot{Total: 14, Accounts: []poller.AccountSnapshot{
				{Name: "work", State: poller.StateOK, New: 12, Checked: now.Add(-26 * time.Hour),
					Mails: append([]poller.Mail{{ID: "long", From: "Bob\r\n  Builder",
						Subject: "A very long subject line that goes on and on well past sixty runes"}}, mails(11)...)},
				{Name: "old", State: poller.StateError, New: 2, Mails: mails(2), Failed: now.Add(-time.Minute), Retry: now.Add(4 * time.Minute),
					Err: &poller.CheckError{Kind: poller.KindAuth, Msg: "login refused by imap.example.com: check the password"}},
			}},
			title:   "14",
			tooltip: "14 new mails · 1 account needs attention\nwork: 12 new\nold: 2 new, login refused",
			icon:    icons.State{Count: 14, Error: true},
			menu: `14 new mails · 1 account needs attention [-]
work — 12 new
  Bob Builder — A very long subject line that goes on and on… {openmail work long}
  Sender 0 — Subject 0 {openmail work m0}
  Sender 1 — Subject 1 {openmail work m1}
  Sender 2 — Subject 2 {openmail work m2}
  Sender 3 — Subject 3 {openmail work m3}
  Sender 4 — Subject 4 {openmail work m4}
  Sender 5 — Subject 5 {openmail work m5}
  Sender 6 — Subject 6 {openmail work m6}
  Sender 7 — Subject 7 {openmail work m7}
  Sender 8 — Subject 8 {openmail work m8}
  … and 2 more [-]
  ---
  Last checked Mar 13 13:09 [-]
  Check now {checknow work}
  Mark read {markread work}
  Edit account… {editaccount work}
old — 2 new, login refused
  Wrong password, or the server refused the login [-]
  Change password… {editaccount old}
  ---
  Sender 0 — Subject 0 {openmail old m0}
  Sender 1 — Subject 1 {openmail old m1}
  ---
  Failed at 15:08 — next try 15:13 [-]
  Check now {checknow old}
  Mark read {markread old}
---
Mark all read {markread}
Check now {checknow}
Add account… {addaccount}
Accounts… {accounts}
Quit {quit}
`,
		},
		{
			name: "all unreachable is offline",
			snap: poller.Snapshot{Accounts: []poller.AccountSnapshot{
				{Name: "a", State: poller.StateError, Failed: now, Retry: now.Add(5 * time.Minute),
					Err: &poller.CheckError{Kind: poller.KindNetwork, Msg: "imap.example.com unreachable"}},
				{Name: "b", State: poller.StateError, Err: &poller.CheckError{Kind: poller.KindTLS, Msg: "bad certificate", Err: fmt.Errorf("x509: expired")}},
				{Name: "c", State: poller.StateError},
			}},
			tooltip: "No new mail · 3 accounts need attention\na: server unreachable\nb: secure connection failed\nc: error",
			icon:    icons.State{Error: true},
			menu: `No new mail · 3 accounts need attention [-]
a — server unreachable
  Server not reachable — are you offline? [-]
  Edit account… {editaccount a}
  ---
  Failed at 15:09 — next try 15:14 [-]
  Check now {checknow a}
  Mark read [-] {markread a}
b — secure connection failed
  Secure connection failed — check the security setting [-]
  Edit account… {editaccount b}
  ---
  Failed — next try soon [-]
  Check now {checknow b}
  Mark read [-] {markread b}
c — error
  Something went wrong — see the log [-]
  Edit account… {editaccount c}
  ---
  Failed — next try soon [-]
  Check now {checknow c}
  Mark read [-] {markread c}
---
Mark all read [-] {markread}
Check now {checknow}
Add account… {addaccount}
Accounts… {accounts}
Quit {quit}
`,
		},
		{
			name: "only network errors: grey",
			snap: poller.Snapshot{Total: 3, Accounts: []poller.AccountSnapshot{
				{Name: "a", State: poller.StateError, New: 3, Err: &poller.CheckError{Kind: poller.KindNetwork, Msg: "offline"}},
			}},
			title:   "3",
			tooltip: "3 new mails · 1 account needs attention\na: 3 new, server unreachable",
			icon:    icons.State{Count: 3, Offline: true},
		},
		{
			name:    "more than 99",
			snap:    poller.Snapshot{Total: 250, Accounts: []poller.AccountSnapshot{{Name: "list", State: poller.StateOK, New: 250}}},
			title:   "250",
			tooltip: "list: 250 new",
			icon:    icons.State{Count: 100},
		},
		{
			name: "paused today, start at login on, mark on server for IMAP only",
			snap: poller.Snapshot{Total: 1, Accounts: []poller.AccountSnapshot{
				{Name: "work", Protocol: "imap", State: poller.StateOK, New: 1, NewIDs: []string{"a"}, Checked: checked,
					Mails: []poller.Mail{{ID: "a", From: "Alice", Subject: "Lunch?"}}},
				{Name: "home", Protocol: "pop3", State: poller.StateOK, New: 1, NewIDs: []string{"p"}, Checked: checked},
				{Name: "list", Protocol: "imap", State: poller.StateOK, Checked: checked},
			}},
			st: ViewState{Pause: true, PausedUntil: now.Add(time.Hour), Autostart: true, AutostartOn: true,
				MarkOnServer: true},
			title:   "1",
			tooltip: "work: 1 new\nhome: 1 new\nlist: no new mail",
			icon:    icons.State{Count: 1},
			menu: `1 new mail [-]
Paused until 16:09 [-]
work — 1 new
  Alice — Lunch? {openmail work a}
  ---
  Last checked 15:05 [-]
  Check now {checknow work}
  Mark read {markread work}
  Mark read on server {markonserver work}
  Edit account… {editaccount work}
home — 1 new
  Last checked 15:05 [-]
  Check now {checknow home}
  Mark read {markread home}
  Edit account… {editaccount home}
list — no new mail
  Last checked 15:05 [-]
  Check now {checknow list}
  Mark read [-] {markread list}
  Mark read on server [-] {markonserver list}
  Edit account… {editaccount list}
---
Mark all read {markread}
Check now {checknow}
Pause notifications
  For 1 hour {pausehour}
  Until tomorrow {pausetomorrow}
  Resume {resume}
Start at login [x] {autostart}
Add account… {addaccount}
Accounts… {accounts}
Quit {quit}
`,
		},
		{
			name: "paused until tomorrow, start at login off",
			snap: poller.Snapshot{Accounts: []poller.AccountSnapshot{
				{Name: "work", Protocol: "imap", State: poller.StateOK, Checked: checked},
			}},
			st:      ViewState{Pause: true, PausedUntil: tomorrowMorning(now), Autostart: true},
			tooltip: "work: no new mail",
			menu: `No new mail [-]
Paused until tomorrow 08:00 [-]
work — no new mail
  Last checked 15:05 [-]
  Check now {checknow work}
  Mark read [-] {markread work}
  Edit account… {editaccount work}
---
Mark all read [-] {markread}
Check now {checknow}
Pause notifications
  For 1 hour {pausehour}
  Until tomorrow {pausetomorrow}
  Resume {resume}
Start at login [ ] {autostart on}
Add account… {addaccount}
Accounts… {accounts}
Quit {quit}
`,
		},
		{
			// notifier.Batcher reports a pause's end until its next Next.
			name:    "a pause that has ended",
			snap:    poller.Snapshot{},
			st:      ViewState{Pause: true, PausedUntil: now},
			tooltip: "MailSneaker: no accounts",
			icon:    icons.State{Offline: true},
			menu: `No accounts set up [-]
---
Mark all read [-] {markread}
Check now [-] {checknow}
Pause notifications
  For 1 hour {pausehour}
  Until tomorrow {pausetomorrow}
Add account… {addaccount}
Accounts… [-] {accounts}
Quit {quit}
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st
			if st.Now.IsZero() {
				st.Now = now
			}
			m := View(tt.snap, st)
			if m.Title != tt.title {
				t.Errorf("Title = %q, want %q", m.Title, tt.title)
			}
			if m.Tooltip != tt.tooltip {
				t.Errorf("Tooltip = %q, want %q", m.Tooltip, tt.tooltip)
			}
			if m.Icon != tt.icon {
				t.Errorf("Icon = %+v, want %+v", m.Icon, tt.icon)
			}
			if tt.menu == "" {
				return
			}
			var b strings.Builder
			render(m.Items, 0, &b)
			if got := b.String(); got != tt.menu {
				t.Errorf("menu:\n%s\nwant:\n%s", got, tt.menu)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven runes", 10, "eleven ru…"},
		{"ääääääääääää", 5, "ääää…"},
		{"word     space", 6, "word…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if n := len([]rune(truncate(tt.in, tt.n))); n > tt.n {
			t.Errorf("truncate(%q, %d) has %d runes", tt.in, tt.n, n)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                "plain",
		"  two\r\n\tlines  ":   "two lines",
		"esc\x1b[31mred":       "esc [31mred",
		"zero\u200bwidth kept": "zero\u200bwidth kept",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMailLabel(t *testing.T) {
	if got := mailLabel(poller.Mail{}); got != "(unknown sender) — (no subject)" {
		t.Errorf("empty mail: %q", got)
	}
}

func TestClock(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{now.Add(time.Hour), "16:09"},
		{time.Date(2026, 3, 14, 23, 59, 0, 0, time.UTC), "23:59"},
		{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), "tomorrow 00:00"},
		{time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC), "tomorrow 08:00"},
		{time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC), "Mar 16 08:00"},
		{time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC), "Jan 1 2027 08:00"},
		// Written in now's zone (UTC), not t's: 18:30 at UTC-5 is 23:30.
		{time.Date(2026, 3, 14, 23, 30, 0, 0, time.UTC).In(time.FixedZone("X", -5*3600)), "23:30"},
	}
	for _, tt := range tests {
		if got := clock(tt.t, now); got != tt.want {
			t.Errorf("clock(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
	// Across a month end.
	eom := time.Date(2026, 1, 31, 22, 0, 0, 0, time.UTC)
	if got := clock(tomorrowMorning(eom), eom); got != "tomorrow 08:00" {
		t.Errorf("clock(tomorrow morning) on Jan 31 = %q", got)
	}
}

func TestTomorrowMorning(t *testing.T) {
	if got, want := tomorrowMorning(now), time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("tomorrowMorning(%v) = %v, want %v", now, got, want)
	}
	// Just after midnight it is still the next day's morning.
	early := time.Date(2026, 12, 31, 0, 30, 0, 0, time.UTC)
	if got, want := tomorrowMorning(early), time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("tomorrowMorning(%v) = %v, want %v", early, got, want)
	}
	// 08:00 local on the day DST starts is 07:00 UTC, not now+17h.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	eve := time.Date(2026, 3, 28, 20, 0, 0, 0, berlin)
	got := tomorrowMorning(eve)
	if h, m, _ := got.Clock(); h != 8 || m != 0 || got.Day() != 29 || !got.Equal(time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("tomorrowMorning(%v) = %v, want 08:00 CEST on the 29th", eve, got)
	}
}

func TestNextChange(t *testing.T) {
	midnight := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		until time.Time
		want  time.Time
	}{
		{"not paused", time.Time{}, time.Time{}},
		{"ended", now, time.Time{}},
		{"ends today", now.Add(time.Hour), now.Add(time.Hour)},
		{"ends at midnight", midnight, midnight},
		{"ends tomorrow: the label changes at midnight", tomorrowMorning(now), midnight},
	}
	for _, tt := range tests {
		if got := nextChange(tt.until, now); !got.Equal(tt.want) {
			t.Errorf("%s: nextChange = %v, want %v", tt.name, got, tt.want)
		}
	}
}
