package notifier

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// acct builds an account snapshot in StateOK whose new mails are ids; each
// id's mail is from "From <id>" with subject "Subject <id>", and later ids
// are newer.
func acct(name string, ids ...string) poller.AccountSnapshot {
	a := poller.AccountSnapshot{Name: name, Protocol: "imap", State: poller.StateOK, New: len(ids), NewIDs: ids}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := len(ids) - 1; i >= 0; i-- { // newest first, like the poller
		a.Mails = append(a.Mails, poller.Mail{ID: ids[i], Folder: "INBOX",
			From: "From " + ids[i], Subject: "Subject " + ids[i], Date: base.Add(time.Duration(i) * time.Minute)})
	}
	return a
}

func snap(as ...poller.AccountSnapshot) poller.Snapshot {
	s := poller.Snapshot{Accounts: as}
	for _, a := range as {
		s.Total += a.New
	}
	return s
}

// step is one call of the scenario: an optional action, then Next.
type step struct {
	at     string // "15:04" on day 1, or "+15:04" on day 2
	do     func(b *Batcher, now time.Time)
	snap   poller.Snapshot
	want   bool
	title  string
	body   string
	ids    map[string][]string
	paused bool // PausedUntil is non-zero after the step
}

func clock(t *testing.T, at string) time.Time {
	t.Helper()
	day := 1
	if at[0] == '+' {
		day, at = 2, at[1:]
	}
	hm, err := time.Parse("15:04", at)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2025, 3, day, hm.Hour(), hm.Minute(), 0, 0, time.Local)
}

func TestBatcher(t *testing.T) {
	on := accounts.General{Notify: true}
	night := accounts.General{Notify: true, QuietHours: "22:00-07:00"}
	pauseUntil := func(at string) func(*Batcher, time.Time) {
		return func(b *Batcher, _ time.Time) { b.Pause(clock(t, at)) }
	}
	resume := func(b *Batcher, _ time.Time) { b.Resume() }
	errored := acct("work", "w1")
	errored.State = poller.StateError
	starting := acct("work", "w1")
	starting.State = poller.StateStarting

	tests := []struct {
		name    string
		general accounts.General
		steps   []step
	}{
		{"start-up mail is not announced", on, []step{
			{at: "09:00", snap: snap(acct("home", "a", "b"))},
			{at: "09:01", snap: snap(acct("home", "a", "b"))},
		}},
		{"a new batch", on, []step{
			{at: "09:00", snap: snap(acct("home", "a"))},
			{at: "09:05", snap: snap(acct("home", "a", "b", "c")), want: true,
				title: "2 new mails", body: "From c: Subject c\nFrom b: Subject b",
				ids: map[string][]string{"home": {"b", "c"}}},
		}},
		{"one new mail", on, []step{
			{at: "09:00", snap: snap(acct("home"))},
			{at: "09:05", snap: snap(acct("home", "a")), want: true,
				title: "1 new mail", body: "From a: Subject a", ids: map[string][]string{"home": {"a"}}},
		}},
		{"same mail not twice", on, []step{
			{at: "09:00", snap: snap(acct("home"))},
			{at: "09:05", snap: snap(acct("home", "a")), want: true,
				title: "1 new mail", body: "From a: Subject a", ids: map[string][]string{"home": {"a"}}},
			{at: "09:06", snap: snap(acct("home", "a"))},
			{at: "09:07", snap: snap(acct("home", "a"))},
		}},
		{"mark read, then a new mail", on, []step{
			{at: "09:00", snap: snap(acct("home", "a"))},
			{at: "09:05", snap: snap(acct("home", "a", "b")), want: true,
				title: "1 new mail", body: "From b: Subject b", ids: map[string][]string{"home": {"b"}}},
			{at: "09:06", snap: snap(acct("home"))}, // Mark read: the poller drops them
			{at: "09:07", snap: snap(acct("home", "c")), want: true,
				title: "1 new mail", body: "From c: Subject c", ids: map[string][]string{"home": {"c"}}},
		}},
		{"a mail that is new again is not announced again", on, []step{
			{at: "09:00", snap: snap(acct("home"))},
			{at: "09:05", snap: snap(acct("home", "a")), want: true,
				title: "1 new mail", body: "From a: Subject a", ids: map[string][]string{"home": {"a"}}},
			{at: "09:06", snap: snap(acct("home"))},
			{at: "09:07", snap: snap(acct("home", "a"))},
		}},
		{"pause, then one summary at resume", on, []step{
			{at: "09:00", snap: snap(acct("home"), acct("work"))},
			{at: "09:01", do: pauseUntil("+09:00"), snap: snap(acct("home", "a"), acct("work")), paused: true},
			{at: "09:02", snap: snap(acct("home", "a", "b"), acct("work", "w1")), paused: true},
			{at: "09:03", snap: snap(acct("home", "b"), acct("work", "w1")), paused: true}, // a was read meanwhile
			{at: "09:04", do: resume, snap: snap(acct("home", "b"), acct("work", "w1")), want: true,
				title: "2 new mails", body: "From b: Subject b\nFrom w1: Subject w1",
				ids: map[string][]string{"home": {"b"}, "work": {"w1"}}},
			{at: "09:05", snap: snap(acct("home", "b"), acct("work", "w1"))},
		}},
		{"a pause ends by itself", on, []step{
			{at: "09:00", snap: snap(acct("home"))},
			{at: "09:01", do: pauseUntil("10:00"), snap: snap(acct("home", "a")), paused: true},
			{at: "09:59", snap: snap(acct("home", "a")), paused: true},
			{at: "10:00", snap: snap(acct("home", "a")), want: true,
				title: "1 new mail", body: "From a: Subject a", ids: map[string][]string{"home": {"a"}}},
		}},
		{"quiet hours across midnight", night, []step{
			{at: "21:00", snap: snap(acct("home"))},
			{at: "21:59", snap: snap(acct("home", "a")), want: true,
				title: "1 new mail", body: "From a: Subject a", ids: map[string][]string{"home": {"a"}}},
			{at: "22:00", snap: snap(acct("home", "a", "b"))},
			{at: "23:59", snap: snap(acct("home", "a", "b", "c"))},
			{at: "+00:30", snap: snap(acct("home", "a", "b", "c", "d"))},
			{at: "+06:59", snap: snap(acct("home", "a", "b", "c", "d"))},
			{at: "+07:00", snap: snap(acct("home", "a", "b", "c", "d")), want: true,
				title: "3 new mails", body: "From d: Subject d\nFrom c: Subject c\nFrom b: Subject b",
				ids: map[string][]string{"home": {"b", "c", "d"}}},
			{at: "+07:01", snap: snap(acct("home", "a", "b", "c", "d"))},
		}},
		{"notify off", accounts.General{Notify: false}, []step{
			{at: "09:00", snap: snap(acct("home"))},
			{at: "09:05", snap: snap(acct("home", "a", "b"))},
			{at: "09:06", snap: snap(acct("home", "a", "b", "c"))},
		}},
		{"notify switched on later announces only later mail", on, []step{
			{at: "09:00", do: func(b *Batcher, _ time.Time) { b.SetGeneral(accounts.General{}) }, snap: snap(acct("home"))},
			{at: "09:05", snap: snap(acct("home", "a"))},
			{at: "09:06", do: func(b *Batcher, _ time.Time) { b.SetGeneral(on) }, snap: snap(acct("home", "a", "b")), want: true,
				title: "1 new mail", body: "From b: Subject b", ids: map[string][]string{"home": {"b"}}},
		}},
		{"start-up is each account's first successful check", on, []step{
			{at: "09:00", snap: snap(acct("home"), starting)},
			{at: "09:01", snap: snap(acct("home"), errored)},
			{at: "09:02", snap: snap(acct("home"), acct("work", "w1"))},
			{at: "09:03", snap: snap(acct("home", "a"), acct("work", "w1", "w2")), want: true,
				title: "2 new mails", body: "From w2: Subject w2\nFrom a: Subject a",
				ids: map[string][]string{"home": {"a"}, "work": {"w2"}}},
		}},
		{"an account added later starts quietly", on, []step{
			{at: "09:00", snap: snap(acct("home"))},
			{at: "09:01", snap: snap(acct("home"), acct("new", "x", "y"))},
		}},
		{"body capped at five lines", on, []step{
			{at: "09:00", snap: snap(acct("home"))},
			{at: "09:01", snap: snap(acct("home", "1", "2", "3", "4", "5", "6", "7")), want: true,
				title: "7 new mails",
				body:  "From 7: Subject 7\nFrom 6: Subject 6\nFrom 5: Subject 5\nFrom 4: Subject 4\nFrom 3: Subject 3\nand 2 more",
				ids:   map[string][]string{"home": {"1", "2", "3", "4", "5", "6", "7"}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBatcher(tc.general)
			for i, st := range tc.steps {
				now := clock(t, st.at)
				if st.do != nil {
					st.do(b, now)
				}
				n, ok := b.Next(st.snap, now)
				if ok != st.want {
					t.Fatalf("step %d (%s): note %v, want %v: %+v", i, st.at, ok, st.want, n)
				}
				if got := !b.PausedUntil().IsZero(); got != st.paused {
					t.Errorf("step %d (%s): paused %v, want %v", i, st.at, got, st.paused)
				}
				if !ok {
					continue
				}
				if n.Title != st.title || n.Body != st.body || !reflect.DeepEqual(n.IDs, st.ids) {
					t.Errorf("step %d (%s):\n got %q %q %v\nwant %q %q %v", i, st.at, n.Title, n.Body, n.IDs, st.title, st.body, st.ids)
				}
			}
		})
	}
}

func TestSummaryLines(t *testing.T) {
	a := acct("home")
	a.NewIDs = []string{"x", "y", "z"}
	a.New = 3
	a.Mails = []poller.Mail{
		{ID: "x", From: "Ann\r\n  Smith", Subject: "multi\nline\tsubject"},
		{ID: "y", From: "", Subject: ""},
	} // z is beyond poller.MaxMails: counted, not named
	long := poller.Mail{ID: "l", From: "L", Subject: fmt.Sprintf("%0200d", 0)}
	n := summarize([]part{{&a, a.NewIDs}})
	want := "Ann Smith: multi line subject\n(unknown sender): (no subject)\nand 1 more"
	if n.Title != "3 new mails" || n.Body != want {
		t.Errorf("got %q %q, want %q", n.Title, n.Body, want)
	}
	if got := []rune(line(long)); len(got) != maxLineRunes || got[len(got)-1] != '…' {
		t.Errorf("long line %q (%d runes)", string(got), len(got))
	}
}

// A nil Batcher (notifications off) takes changed settings without a panic,
// so that the config follower needs no special case.
func TestNilBatcherSetGeneral(t *testing.T) {
	var b *Batcher
	b.SetGeneral(accounts.General{Notify: true})
}
