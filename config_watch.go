package main

import (
	"context"
	"log/slog"
	"os"
	"reflect"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/notifier"
	"mailsneaker/poller"
)

// configPoll is how often the tray looks at config.toml's modification time.
const configPoll = 5 * time.Second

// watchConfig applies edits of the config file (by hand, or by `mailsneaker
// account add/remove` in a terminal) to the running tray: accounts added,
// changed or removed, and the [general] settings. A file that no longer
// parses is reported and ignored until it is fixed; the tray keeps running
// on what it had.
func watchConfig(ctx context.Context, log *slog.Logger, path string, cfg *accounts.Config, m *poller.Manager, b *notifier.Batcher, every time.Duration) {
	last := modTimeOf(path)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mt := modTimeOf(path)
		if mt.Equal(last) {
			continue
		}
		last = mt
		next, err := accounts.Load(path)
		if os.IsNotExist(err) {
			next, err = &accounts.Config{General: cfg.General}, nil
		}
		if err != nil {
			log.Warn("config.toml changed but cannot be used; keeping the previous settings", "err", err)
			continue
		}
		applyConfig(log, cfg, next, m, b)
		cfg = next
	}
}

// applyConfig tells the manager what changed between two configs.
func applyConfig(log *slog.Logger, old, next *accounts.Config, m *poller.Manager, b *notifier.Batcher) {
	before := map[string]accounts.Account{}
	for _, a := range old.Accounts {
		before[a.Name] = a
	}
	for _, a := range next.Accounts {
		if prev, ok := before[a.Name]; !ok || !reflect.DeepEqual(prev, a) {
			log.Info("config: watching account", "account", a.Name, "changed", ok)
			m.AddAccount(a)
		}
		delete(before, a.Name)
	}
	for name := range before {
		log.Info("config: account removed", "account", name)
		m.RemoveAccount(name)
	}
	if old.General != next.General {
		if b != nil {
			b.SetGeneral(next.General)
		}
		log.Info("config: [general] changed", "notify", next.General.Notify, "quiet_hours", next.General.QuietHours)
	}
}

func modTimeOf(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
