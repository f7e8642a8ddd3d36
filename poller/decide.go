package poller

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"mailsneaker/accounts"
	"mailsneaker/seen"
)

// decision is what one check means for an account: the new set, and the
// changes to its persisted seen set.
type decision struct {
	newIDs    []string
	add       map[string]string // id → Message-ID, into the seen set
	remove    []string          // ids no longer on the server (pruned)
	baselined bool              // the account's seen set is baselined from now on
	notice    string            // said once to the user and logged at Warn
	log       string            // logged at Info: what happened, nothing to act on
	describe  []string          // IMAP folders to describe whole from now on (Query.Describe)
	again     bool              // check again at once: some mail could not be judged
}

// changed reports whether the seen set must be written.
func (d *decision) changed(known *seen.Account) bool {
	return len(d.add) > 0 || len(d.remove) > 0 || d.baselined != known.Baselined
}

// migrationMin is how many seen mails must vanish at once, all replaced by
// others, before a POP3 account is taken to have moved to another server.
const migrationMin = 10

// decide turns what a check found into the new set, given the account's seen
// set. For POP3 the seen set holds mails the user already had a chance to
// read; for IMAP it holds the mails the user dismissed. stateLost says the
// store was reset after corruption: baseline instead of flooding the user.
//
// POP3: the first check of an account is its baseline (unless
// count_existing); a check where none of ≥ migrationMin seen mails remain and
// at least half as many others appeared is a server migration and re-baselines.
//
// IMAP: a dismissal follows its mail to a new UID by Message-ID or digest
// (followDismissals); described holds the envelopes of mails already shown,
// which the check does not fetch again.
func decide(a accounts.Account, known *seen.Account, stateLost bool, in *Inbox, described map[string]Mail) decision {
	d := decision{add: map[string]string{}, baselined: true}
	present := make(map[string]struct{}, len(in.IDs))
	for _, id := range in.IDs {
		present[id] = struct{}{}
	}
	for id := range known.IDs {
		if _, ok := present[id]; !ok {
			d.remove = append(d.remove, id)
		}
	}
	sort.Strings(d.remove)
	msgID := func(id string) string { return in.Mails[id].MessageID }

	switch {
	case a.Protocol == accounts.POP3 && !known.Baselined:
		if a.CountExisting && !stateLost {
			break
		}
		for _, id := range in.IDs {
			d.add[id] = msgID(id)
		}
		if stateLost {
			d.notice = fmt.Sprintf("%s: the seen-mail state was lost; the %d mails on the server now count as seen", a.Name, len(in.IDs))
		}
		return d
	case a.Protocol == accounts.POP3 && len(known.IDs) >= migrationMin && len(d.remove) == len(known.IDs) && 2*len(in.IDs) >= len(known.IDs):
		for _, id := range in.IDs {
			d.add[id] = msgID(id)
		}
		d.notice = fmt.Sprintf("%s: every known mail was replaced by %d others (server migration?); they count as seen", a.Name, len(in.IDs))
		return d
	case a.Protocol == accounts.IMAP && !known.Baselined && stateLost:
		for _, id := range in.IDs {
			d.add[id] = msgID(id)
		}
		d.notice = fmt.Sprintf("%s: the dismissed-mail state was lost; the %d unread mails now count as dismissed", a.Name, len(in.IDs))
		return d
	}

	var hold map[string]bool // IMAP folders whose unknown mail without an envelope is not judged yet
	if a.Protocol == accounts.IMAP {
		mail := func(id string) (Mail, bool) {
			if m, ok := in.Mails[id]; ok {
				return m, true
			}
			m, ok := described[id]
			return m, ok
		}
		fr := followDismissals(known, in, d.remove, mail, d.add)
		followed, rebased := fr.followed, fr.rebased
		d.describe, hold = fr.renumbered, fr.deferred
		if len(hold) > 0 {
			// Dismissed mail may hide among the renumbered mail whose
			// envelope was not fetched (only the newest are): keep those
			// dismissals and judge that mail at a check that describes
			// the whole folder, asked for at once.
			d.again = true
			kept := d.remove[:0]
			for _, id := range d.remove {
				if f, _, _, ok := ParseIMAPID(id); !ok || !hold[f] {
					kept = append(kept, id)
				}
			}
			d.remove = kept
			for f := range hold {
				if !slices.Contains(d.describe, f) {
					d.describe = append(d.describe, f)
				}
			}
		}
		if len(followed) > 0 {
			d.log = fmt.Sprintf("%s: dismissed mail got new UIDs from the server; the dismissals followed it by Message-ID or digest: %s", a.Name, strings.Join(followed, ", "))
		}
		if len(rebased) > 0 {
			// Never silently: the manager logs the notice and shows it.
			d.notice = fmt.Sprintf("%s: the server renumbered its mail (UIDVALIDITY changed) and a mail dismissed there had no Message-ID or digest to find it by, so the unread mail of %s now counts as dismissed; mail that arrives from now on counts as new",
				a.Name, strings.Join(rebased, ", "))
		}
		// A dismissal stored without a key (by an older version, or
		// before its envelope was fetched) gets one as soon as its
		// envelope is at hand, so that it can follow its mail later.
		for id, m := range in.Mails {
			if mid, ok := known.IDs[id]; ok && mid == "" {
				if k := dismissKey(m); k != "" {
					d.add[id] = k
				}
			}
		}
	}
	for _, id := range in.IDs {
		if _, ok := known.IDs[id]; ok {
			continue
		}
		if _, ok := d.add[id]; ok {
			continue
		}
		if f, _, _, ok := ParseIMAPID(id); ok && hold[f] {
			_, fetched := in.Mails[id]
			_, shown := described[id]
			if !fetched && !shown {
				continue
			}
		}
		d.newIDs = append(d.newIDs, id)
	}
	return d
}

// dismissKey is what a dismissal of m is matched by when the server gives
// m a new id: its Message-ID, else the digest of Date, From, Subject and
// size; "" when m was never described.
func dismissKey(m Mail) string {
	if m.MessageID != "" {
		return m.MessageID
	}
	return m.Digest
}

// followDismissals keeps each dismissal with its mail when the server gives
// the mail a new UID: after a UIDVALIDITY change (the folder is in
// in.Reset), or without one (GNU Mailutils renumbers the mail in Maildir
// new/ at every session, against RFC 3501). A dismissed id of a folder that
// is no longer unseen there and an unseen, undismissed id of the same
// folder with the same dismissKey are taken for the same mail, one for one.
//
// In a folder in in.Reset where a vanished dismissal has no key to match,
// every unseen mail of the folder left unmatched is dismissed (a
// re-baseline) rather than flooding the user; its dismissals are keyed, so
// the next change carries them and mail that arrives later counts.
// followed and rebased name the folders concerned and how many mails.
// gone are the dismissed ids no longer unseen on the server
// (decision.remove, before decide holds any back).
func followDismissals(known *seen.Account, in *Inbox, gone []string, mail func(id string) (Mail, bool), add map[string]string) followResult {
	vanished := map[string]map[string]int{} // folder → key → count
	blank := map[string]bool{}              // folder → a vanished dismissal has no key
	for _, id := range gone {
		key := known.IDs[id]
		f, _, _, ok := ParseIMAPID(id)
		if !ok {
			continue
		}
		if key == "" {
			blank[f] = true
			continue
		}
		if vanished[f] == nil {
			vanished[f] = map[string]int{}
		}
		vanished[f][key]++
	}
	reset := map[string]bool{}
	for _, f := range in.Reset {
		reset[f] = blank[f]
	}
	if len(vanished) == 0 && len(reset) == 0 {
		return followResult{}
	}
	nFollowed, nRebased := map[string]int{}, map[string]int{}
	unkeyed := map[string]bool{} // folder → an unknown unseen mail there has no envelope
	var folders []string
	for _, id := range in.IDs {
		if _, ok := known.IDs[id]; ok {
			continue
		}
		f, _, _, ok := ParseIMAPID(id)
		if !ok {
			continue
		}
		k := ""
		if m, ok := mail(id); ok {
			k = dismissKey(m)
		}
		switch {
		case k != "" && vanished[f][k] > 0:
			vanished[f][k]--
			nFollowed[f]++
		case reset[f]:
			nRebased[f]++
		default:
			if k == "" {
				unkeyed[f] = true
			}
			continue
		}
		if nFollowed[f]+nRebased[f] == 1 {
			folders = append(folders, f)
		}
		add[id] = k
	}
	var r followResult
	for _, f := range folders {
		if n := nFollowed[f]; n > 0 {
			r.followed = append(r.followed, fmt.Sprintf("%s (%d)", f, n))
			if _, ok := reset[f]; !ok {
				// New UIDs under the same UIDVALIDITY: the server
				// renumbers (not a one-off rebuild), and will again.
				r.renumbered = append(r.renumbered, f)
			}
		}
		if n := nRebased[f]; n > 0 {
			r.rebased = append(r.rebased, fmt.Sprintf("%s (%d)", f, n))
		}
	}
	for f, keys := range vanished {
		left := 0
		for _, n := range keys {
			left += n
		}
		if left > 0 && unkeyed[f] && !slices.Contains(in.Described, f) {
			if r.deferred == nil {
				r.deferred = map[string]bool{}
			}
			r.deferred[f] = true
		}
	}
	return r
}

// followResult is what followDismissals did.
type followResult struct {
	followed, rebased []string // "folder (count)" for the log and the notice
	// renumbered are the folders where the server gave mail new UIDs
	// under the same UIDVALIDITY: from now on every unseen mail there is
	// described, so that every dismissal finds its mail.
	renumbered []string
	// deferred are folders where a dismissal found no mail while mail
	// without an envelope may be it.
	deferred map[string]bool
}

// validities is the UIDVALIDITY per folder that the dismissed set was keyed with.
func validities(known *seen.Account) map[string]uint32 {
	v := map[string]uint32{}
	for id := range known.IDs {
		if f, val, _, ok := ParseIMAPID(id); ok {
			v[f] = val
		}
	}
	return v
}

// newestFirst orders mails by date, then by id, newest first.
func newestFirst(ms []Mail) {
	sort.SliceStable(ms, func(i, j int) bool {
		if !ms[i].Date.Equal(ms[j].Date) {
			return ms[i].Date.After(ms[j].Date)
		}
		return idLess(ms[j].ID, ms[i].ID)
	})
}

// idLess compares ids numerically where they end in a number (IMAP UIDs).
func idLess(a, b string) bool {
	ai, aerr := strconv.ParseUint(a[strings.LastIndexByte(a, '/')+1:], 10, 64)
	bi, berr := strconv.ParseUint(b[strings.LastIndexByte(b, '/')+1:], 10, 64)
	if aerr == nil && berr == nil && ai != bi {
		return ai < bi
	}
	return a < b
}
