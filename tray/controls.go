package tray

import (
	"fmt"

	"mailsneaker/poller"
)

// pausedItem is the submenu of a paused account (enabled = false): greyed
// lines say so, and Resume (where offered) and Edit account… are the only
// entries that do something. The entry itself stays enabled, or its
// submenu would not open.
func pausedItem(a poller.AccountSnapshot, st ViewState) Item {
	it := Item{Label: truncate(a.Name+" — Paused", MaxLabel)}
	it.Children = append(it.Children,
		Item{Label: "Paused: not checked, no connection", Disabled: true},
		Item{Separator: true},
	)
	if st.AccountPause {
		it.Children = append(it.Children, Item{Label: "Resume", Action: Action{Kind: ActSetEnabled, Account: a.Name, On: true}})
	}
	it.Children = append(it.Children, Item{Label: "Edit account…", Action: Action{Kind: ActEditAccount, Account: a.Name}})
	return it
}

// ignoredNote is " (2 ignored)" for the headline: new mail from the
// ignore_from senders of every account, not in the count.
func ignoredNote(s poller.Snapshot) string {
	n := 0
	for _, a := range s.Accounts {
		n += a.Ignored
	}
	return ignoredCount(n)
}

// ignoredCount is " (n ignored)", or "" for none.
func ignoredCount(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%d ignored)", n)
}

// setEnabled runs Options.SetEnabled for a click on Pause or Resume.
func (l *loop) setEnabled(account string, on bool) {
	verb := "pause"
	if on {
		verb = "resume"
	}
	if err := l.o.SetEnabled(account, on); err != nil {
		l.log.Warn("tray: "+verb+" account failed", "account", account, "err", err)
		l.notice("Could not " + verb + " " + account + ": " + err.Error())
		return
	}
	l.log.Info("tray: account "+verb+"d", "account", account)
}
