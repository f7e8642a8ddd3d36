package poller

import (
	"mailsneaker/accounts"
	"mailsneaker/seen"
)

// settingsSnap is s with the settings of a that the snapshot carries for
// the tray and the notifier.
func settingsSnap(s AccountSnapshot, a accounts.Account) AccountSnapshot {
	s.Name, s.Protocol, s.OpenCmd, s.URL = a.Name, string(a.Protocol), a.OpenCommand, a.URL
	s.Paused, s.NoNotify, s.Sound, s.OpenWith = a.Disabled, a.NoNotify, a.Sound, string(a.OpenWith)
	return s
}

// filterSenders sorts the new ids by their sender: those from ignore_from
// go to the snapshot's IgnoredIDs and out of the returned new set, those
// from quiet_from stay new and are listed in QuietIDs. A mail not described
// yet (its From unknown) counts as new until it is: unknown mail is never
// hidden.
func (as *acctState) filterSenders(ids []string) []string {
	as.snap.Ignored, as.snap.IgnoredIDs, as.snap.QuietIDs = 0, nil, nil
	if !as.acct.FiltersSenders() {
		return ids
	}
	keep := make([]string, 0, len(ids))
	for _, id := range ids {
		rule := accounts.SenderNormal
		if m, ok := as.described[id]; ok {
			rule = as.acct.Sender(m.Address)
		}
		switch rule {
		case accounts.SenderIgnored:
			as.snap.IgnoredIDs = append(as.snap.IgnoredIDs, id)
		case accounts.SenderQuiet:
			as.snap.QuietIDs = append(as.snap.QuietIDs, id)
			keep = append(keep, id)
		default:
			keep = append(keep, id)
		}
	}
	as.snap.Ignored = len(as.snap.IgnoredIDs)
	return keep
}

// undescribed reports whether a new mail's sender is still unknown.
func (as *acctState) undescribed() bool {
	for _, id := range as.snap.NewIDs {
		if _, ok := as.described[id]; !ok {
			return true
		}
	}
	return false
}

// dismissIgnored is Mark read for the ignored mails of shown: they join
// the seen set, so that the "(N ignored)" of the menu clears with the
// count. Mail ignored after shown was taken stays as it is.
func (as *acctState) dismissIgnored(st *state, shown AccountSnapshot) {
	if len(shown.IgnoredIDs) == 0 {
		return
	}
	st.store.Update(shown.Name, func(s *seen.Account) {
		if s.IDs == nil {
			s.IDs = map[string]string{}
		}
		for _, id := range shown.IgnoredIDs {
			s.IDs[id] = as.described[id].MessageID
		}
		s.Baselined = true
	})
	gone := make(map[string]struct{}, len(shown.IgnoredIDs))
	for _, id := range shown.IgnoredIDs {
		gone[id] = struct{}{}
	}
	var rest []string
	for _, id := range as.snap.IgnoredIDs {
		if _, ok := gone[id]; !ok {
			rest = append(rest, id)
		}
	}
	as.snap.IgnoredIDs, as.snap.Ignored = rest, len(rest)
	as.seen = nil
}
