package poller

import (
	"context"

	"mailsneaker/accounts"
)

// FollowConfig applies every event of an accounts.Watch to the running
// manager until the events end or the manager stops: the accounts as one
// ordered SetAccounts (the manager diffs them), and a changed [general]
// through onGeneral, which may be nil. A config that does not load is
// logged and ignored; the manager goes on with what it has.
func (m *Manager) FollowConfig(ctx context.Context, events <-chan accounts.WatchEvent, general accounts.General, onGeneral func(accounts.General)) {
	for ev := range events {
		if ev.Err != nil {
			m.log.Warn("config.toml changed but cannot be used; keeping the previous settings", "err", ev.Err)
			continue
		}
		if err := m.SetAccounts(ctx, ev.Config.Accounts); err != nil {
			return // the manager stopped: the app is quitting
		}
		if next := ev.Config.General; next != general {
			general = next
			if onGeneral != nil {
				onGeneral(next)
			}
			m.log.Info("config: [general] changed", "notify", next.Notify, "quiet_hours", next.QuietHours)
		}
	}
}
