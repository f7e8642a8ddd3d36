package notifier

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// TestBatcherAccountControls: a notify = false account and quiet_from mail
// are never announced; the note carries the newest mail and its account's
// sound.
func TestBatcherAccountControls(t *testing.T) {
	b := NewBatcher(accounts.General{Notify: true})
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	mute := acct("mute")
	mute.NoNotify = true
	loud, quiet := acct("loud"), acct("quiet")
	loud.Sound, quiet.Sound = "message-new-email", "/snd/ding.oga"
	if _, ok := b.Next(snap(mute, loud, quiet), now); ok {
		t.Fatal("a note for the start-up state")
	}

	mute = acct("mute", "m1")
	mute.NoNotify = true
	if n, ok := b.Next(snap(mute, loud, quiet), now); ok {
		t.Fatalf("note for a notify = false account: %+v", n)
	}

	q := acct("quiet", "q1", "q2")
	q.Sound, q.QuietIDs = "/snd/ding.oga", []string{"q2"}
	n, ok := b.Next(snap(mute, loud, q), now)
	if !ok {
		t.Fatal("no note for q1")
	}
	if !reflect.DeepEqual(n.IDs, map[string][]string{"quiet": {"q1"}}) || strings.Contains(n.Body, "q2") {
		t.Fatalf("note %+v: want q1 only (q2 is from a quiet sender)", n)
	}
	if n.Newest.ID != "q1" || n.NewestAccount != "quiet" || n.Sound != "/snd/ding.oga" {
		t.Errorf("newest %q of %q, sound %q", n.Newest.ID, n.NewestAccount, n.Sound)
	}

	// Mail of a silent account and of one with a sound: the sound plays.
	l := acct("loud", "l1")
	l.Sound = "message-new-email"
	silent := acct("quiet", "q1", "q2", "q3")
	silent.QuietIDs, silent.Sound = []string{"q2"}, ""
	n, ok = b.Next(snap(mute, l, silent), now)
	if !ok || n.Count() != 2 || n.Sound != "message-new-email" {
		t.Fatalf("note %+v, %v", n, ok)
	}
}

// TestOpenNewestMail: "Open" on a note opens its newest mail.
func TestOpenNewestMail(t *testing.T) {
	type opened struct {
		acct string
		mail poller.Mail
	}
	var got []opened
	tl := newTestLoop(Options{Open: func(a poller.AccountSnapshot, m poller.Mail) { got = append(got, opened{a.Name, m}) }})
	home, work := acct("home", "h1"), acct("work", "w1", "w2")
	s := snap(home, work)
	tl.latest.Store(&s)
	newest := work.Mails[0]
	tl.action(ActionOpen, Note{IDs: map[string][]string{"home": {"h1"}, "work": {"w1", "w2"}}, Newest: newest, NewestAccount: "work"})
	if len(got) != 1 || got[0].acct != "work" || got[0].mail.ID != "w2" {
		t.Fatalf("opened %+v; want w2 of work", got)
	}
}
