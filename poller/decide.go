package poller

import (
	"fmt"
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
// IMAP: a folder whose UIDVALIDITY changed keeps its dismissals by Message-ID;
// where an old dismissal has no Message-ID to match, the folder re-baselines
// (its unseen mail is dismissed) rather than flooding the user.
func decide(a accounts.Account, known *seen.Account, stateLost bool, in *Inbox) decision {
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

	var rebased []string
	for _, folder := range in.Reset {
		if n := carryDismissals(folder, known, in, d.add); n > 0 {
			rebased = append(rebased, fmt.Sprintf("%s (%d)", folder, n))
		}
	}
	if len(rebased) > 0 {
		// Never silently: the manager logs the notice and shows it.
		d.notice = fmt.Sprintf("%s: the server renumbered %s and a dismissed mail there had no Message-ID to match, so its unread mail now counts as dismissed",
			a.Name, strings.Join(rebased, ", "))
	}
	for _, id := range in.IDs {
		if _, ok := known.IDs[id]; ok {
			continue
		}
		if _, ok := d.add[id]; ok {
			continue
		}
		d.newIDs = append(d.newIDs, id)
	}
	return d
}

// carryDismissals moves the dismissals of folder from its old UIDVALIDITY to
// the mails that now carry the same Message-ID, or dismisses all its unseen
// mail when an old dismissal cannot be matched; it returns how many mails
// it dismissed that way (0: no re-baseline).
func carryDismissals(folder string, known *seen.Account, in *Inbox, add map[string]string) int {
	old := map[string]bool{}
	unmatched := false
	for id, mid := range known.IDs {
		f, _, _, ok := ParseIMAPID(id)
		if !ok || f != folder {
			continue
		}
		if mid == "" {
			unmatched = true
		}
		old[mid] = true
	}
	if len(old) == 0 {
		return 0
	}
	rebased := 0
	for _, id := range in.IDs {
		if f, _, _, ok := ParseIMAPID(id); !ok || f != folder {
			continue
		}
		mid := in.Mails[id].MessageID
		if unmatched || (mid != "" && old[mid]) {
			add[id] = mid
			if unmatched {
				rebased++
			}
		}
	}
	return rebased
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
