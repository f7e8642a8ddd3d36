// Package notifier turns successive poller snapshots into desktop
// notifications: Batcher decides what is worth a notification (pure, every
// platform), Notifier shows it (org.freedesktop.Notifications on Linux, a
// no-op elsewhere), and Loop runs the two on the poller's snapshots.
package notifier

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// MaxLines is how many mails a note's body names; the rest are summed up in
// an "and N more" line.
const MaxLines = 5

// maxLineRunes keeps one "sender: subject" line short enough for a popup.
const maxLineRunes = 100

// Note is one summary notification.
type Note struct {
	Title string // "2 new mails"
	Body  string // one "sender: subject" line per mail, plain text
	// IDs are the exact mails the note covers, per account name: what
	// "Mark read" marks, and nothing that arrived after the note.
	IDs map[string][]string
	// Newest is the newest described mail the note covers, of account
	// NewestAccount: what "Open" opens. Zero when none is described.
	Newest        poller.Mail
	NewestAccount string
	// Sound is the sound to play (a freedesktop sound name, or a file
	// path): the one of the newest mail's account, else of another account
	// in the note; "" plays none.
	Sound string
}

// Count is the number of mails the note covers.
func (n Note) Count() int {
	c := 0
	for _, ids := range n.IDs {
		c += len(ids)
	}
	return c
}

// Batcher decides which snapshots deserve a notification. Per account the
// first successful check is the start-up state and is never announced; after
// that every mail id is announced once, in the first note after it appears.
// While paused, in quiet hours, the ids wait and the next note that may be
// shown sums up those still new. It does no I/O and reads no clock: the
// caller passes now. Safe for concurrent use.
type Batcher struct {
	mu       sync.Mutex
	general  accounts.General
	until    time.Time
	accounts map[string]*accountState
}

type accountState struct {
	seen    map[string]bool // every id this account has ever shown
	pending []string        // ids held back by a pause or quiet hours, in arrival order
}

// NewBatcher returns a Batcher that follows g's Notify and QuietHours.
func NewBatcher(g accounts.General) *Batcher {
	return &Batcher{general: g, accounts: make(map[string]*accountState)}
}

// SetGeneral applies changed [general] settings from the next Next on. A
// nil Batcher (notifications off) ignores them.
func (b *Batcher) SetGeneral(g accounts.General) {
	if b == nil {
		return // notifications are off: nothing to set
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.general = g
}

// Pause holds notes back until the given time; the counts keep updating.
func (b *Batcher) Pause(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.until = until
}

// Resume ends a pause; the next Next shows what arrived meanwhile.
func (b *Batcher) Resume() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.until = time.Time{}
}

// PausedUntil is the end of the current pause, or the zero time when not
// paused. A pause whose end has passed reads as zero after the next Next.
func (b *Batcher) PausedUntil() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.until
}

// Next records snapshot s, taken at now, and returns the note to show, if
// any. Feeding the latest snapshot again is harmless and is how held notes
// get out: call Next again after Resume, and on a timer (a minute is fine)
// so that the end of a pause or of quiet hours is noticed without new mail.
func (b *Batcher) Next(s poller.Snapshot, now time.Time) (Note, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.accounts == nil {
		b.accounts = make(map[string]*accountState)
	}
	if !b.until.IsZero() && !now.Before(b.until) {
		b.until = time.Time{}
	}
	hold := !b.until.IsZero() || b.general.Quiet(now)

	var parts []part
	present := make(map[string]bool, len(s.Accounts))
	for i := range s.Accounts {
		a := &s.Accounts[i]
		present[a.Name] = true
		st := b.accounts[a.Name]
		if st == nil {
			if a.State != poller.StateOK {
				continue // not checked yet: nothing known to compare with
			}
			st = &accountState{seen: make(map[string]bool, len(a.NewIDs))}
			b.accounts[a.Name] = st
			for _, id := range a.NewIDs {
				st.seen[id] = true
			}
			continue
		}
		var fresh []string
		quiet := quietSet(a)
		for _, id := range a.NewIDs {
			if !st.seen[id] {
				st.seen[id] = true
				if _, q := quiet[id]; !q { // quiet_from: counted, never announced
					fresh = append(fresh, id)
				}
			}
		}
		switch {
		case !b.general.Notify, a.NoNotify:
			st.pending = nil
		case hold:
			st.pending = append(st.pending, fresh...)
		default:
			ids := stillNew(st.pending, a.NewIDs)
			st.pending = nil
			if ids = append(ids, fresh...); len(ids) > 0 {
				parts = append(parts, part{a, ids})
			}
		}
	}
	for name := range b.accounts {
		if !present[name] {
			delete(b.accounts, name) // removed (or renamed): a new start-up if it returns
		}
	}
	if len(parts) == 0 {
		return Note{}, false
	}
	return summarize(parts), true
}

// quietSet is the set of a's new mails from quiet_from senders.
func quietSet(a *poller.AccountSnapshot) map[string]struct{} {
	if len(a.QuietIDs) == 0 {
		return nil
	}
	q := make(map[string]struct{}, len(a.QuietIDs))
	for _, id := range a.QuietIDs {
		q[id] = struct{}{}
	}
	return q
}

// part is one account's share of a note.
type part struct {
	acct *poller.AccountSnapshot
	ids  []string
}

// stillNew keeps the ids of held that are still among current: mail marked
// read during a pause is not announced when it ends.
func stillNew(held, current []string) []string {
	if len(held) == 0 {
		return nil
	}
	cur := make(map[string]bool, len(current))
	for _, id := range current {
		cur[id] = true
	}
	var out []string
	for _, id := range held {
		if cur[id] {
			out = append(out, id)
		}
	}
	return out
}

// summarize builds the note for parts: newest mails first, at most MaxLines
// of them named. Mails the snapshot does not describe (beyond
// poller.MaxMails) are only counted.
func summarize(parts []part) Note {
	n := Note{IDs: make(map[string][]string, len(parts))}
	var mails []poller.Mail
	from := map[string]*poller.AccountSnapshot{} // mail id → its account
	for _, p := range parts {
		n.IDs[p.acct.Name] = p.ids
		want := make(map[string]bool, len(p.ids))
		for _, id := range p.ids {
			want[id] = true
		}
		for _, m := range p.acct.Mails {
			if want[m.ID] {
				mails = append(mails, m)
				from[m.ID] = p.acct
			}
		}
	}
	sort.SliceStable(mails, func(i, j int) bool { return mails[i].Date.After(mails[j].Date) })
	if len(mails) > 0 {
		n.Newest, n.NewestAccount = mails[0], from[mails[0].ID].Name
		n.Sound = from[mails[0].ID].Sound
	}
	for _, p := range parts {
		if n.Sound == "" {
			n.Sound = p.acct.Sound
		}
	}
	total := n.Count()
	if total == 1 {
		n.Title = "1 new mail"
	} else {
		n.Title = fmt.Sprintf("%d new mails", total)
	}
	var lines []string
	for _, m := range mails[:min(len(mails), MaxLines)] {
		lines = append(lines, line(m))
	}
	if more := total - len(lines); more > 0 && len(lines) > 0 {
		lines = append(lines, fmt.Sprintf("and %d more", more))
	}
	n.Body = strings.Join(lines, "\n")
	return n
}

// line is "sender: subject" on one line of bounded length.
func line(m poller.Mail) string {
	from, subject := clean(m.From), clean(m.Subject)
	if from == "" {
		from = "(unknown sender)"
	}
	if subject == "" {
		subject = "(no subject)"
	}
	s := from + ": " + subject
	if r := []rune(s); len(r) > maxLineRunes {
		s = string(r[:maxLineRunes-1]) + "…"
	}
	return s
}

// clean folds control characters (a decoded subject may hold newlines) and
// runs of spaces into single spaces.
func clean(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}
