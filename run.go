package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/autostart"
	"mailsneaker/cli"
	"mailsneaker/demo"
	"mailsneaker/instance"
	"mailsneaker/launch"
	"mailsneaker/notifier"
	"mailsneaker/poller"
	"mailsneaker/seen"
	"mailsneaker/setup"
	"mailsneaker/tray"
)

// runTray runs the tray on the user's config until Quit or a signal.
func runTray(ctx context.Context, env *cli.Env) int {
	release, err := instance.Lock(env.StateDir, "tray.lock")
	if errors.Is(err, instance.ErrRunning) {
		fmt.Fprintln(env.Stderr, "mailsneaker: MailSneaker is already running (look for its icon in the tray); quit it first")
		return cli.ExitFailed
	} else if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	defer release()
	cfg, err := accounts.Load(env.ConfigPath)
	if errors.Is(err, fs.ErrNotExist) {
		cfg = &accounts.Config{General: accounts.General{Notify: true}}
		fmt.Fprintf(env.Stderr, "no accounts yet: add one from the tray (Add account…) or with `mailsneaker account add`; config: %s\n", env.ConfigPath)
	} else if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitUsage
	}
	store, err := seen.Open(env.StateDir)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	if msg := store.Recovered(); msg != "" {
		fmt.Fprintln(env.Stderr, "warning:", msg)
	}
	m := poller.NewManager(poller.ManagerOptions{
		Accounts: cfg.Accounts, Store: store, CheckerOptions: env.CheckerOptions, Logger: env.Logger,
	})
	return serve(ctx, env, m, serveOptions{general: cfg.General, settings: true, config: cfg})
}

// runDemo starts the built-in demo servers and runs the tray on them, with a
// temporary config and state; it needs no keychain: "Edit account…" opens
// the setup page on the demo's own config and in-memory passwords. With
// --trouble two accounts fail.
func runDemo(ctx context.Context, env *cli.Env, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	trouble := fs.Bool("trouble", false, "add an account with a wrong password and one whose server is unreachable")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "usage: mailsneaker demo [--trouble]")
		return cli.ExitUsage
	}
	dir, err := os.MkdirTemp("", "mailsneaker-demo")
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	defer os.RemoveAll(dir)
	d, err := demo.Start(dir, env.Logger)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker: demo:", err)
		return cli.ExitFailed
	}
	defer d.Close()
	if *trouble {
		if err := d.AddTrouble(); err != nil {
			fmt.Fprintln(env.Stderr, "mailsneaker: demo:", err)
			return cli.ExitFailed
		}
	}
	go d.Run(ctx)
	store, err := seen.Open(dir)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	secrets := d.Secrets()
	m := poller.NewManager(poller.ManagerOptions{
		Accounts: d.Accounts, Store: store, Logger: env.Logger,
		CheckerOptions: func(a accounts.Account) *poller.Options {
			return &poller.Options{Password: func(ctx context.Context) (string, error) { return secrets.Get(ctx, a.Name) },
				Logger: env.Logger.With("account", a.Name)}
		},
	})
	cfg, err := d.WriteConfig(dir)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker: demo:", err)
		return cli.ExitFailed
	}
	page := setup.NewLauncher(ctx, setup.Options{ConfigPath: cfg, Secrets: secrets, Engine: m, Logger: env.Logger},
		func(s string) { env.Logger.Info(s) })
	so := serveOptions{general: accounts.General{Notify: true}, printCounts: true,
		edit: func(a poller.AccountSnapshot) { page.Edit(a.Name, a.Err) }}
	if *trouble {
		fmt.Fprintln(env.Stderr, `demo: "work" has a wrong password (the right one is demo-password), "old-isp" no server`)
	}
	fmt.Fprintln(env.Stderr, "demo: IMAP and POP3 servers on 127.0.0.1 with a new mail every few seconds; Ctrl-C to stop")
	return serve(ctx, env, m, so)
}

// serveOptions say what serve runs besides the manager and the tray.
type serveOptions struct {
	general     accounts.General
	printCounts bool             // print every change of the counts when no tray host is there
	settings    bool             // offer Add account…, Accounts…, Start at login (not in the demo)
	config      *accounts.Config // watch the config file for changes, starting from this

	edit func(poller.AccountSnapshot) // "Edit account…" without settings (the demo's page)
}

// serve runs the manager, notifications and the tray until Quit or ctx ends.
func serve(ctx context.Context, env *cli.Env, m *poller.Manager, so serveOptions) int {
	general, printCounts, settings := so.general, so.printCounts, so.settings
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	managerDone := make(chan error, 1)
	go func() { managerDone <- m.Run(ctx) }()

	host, err := tray.HostAvailable(ctx)
	if !host {
		why := ""
		if err != nil {
			why = " (" + err.Error() + ")"
		}
		fmt.Fprintf(env.Stderr, "no system tray found%s: install a StatusNotifier host (GNOME: the AppIndicator extension); the icon appears when one starts. `mailsneaker check` works without a tray.\n", why)
		if printCounts {
			go printChanges(env, m.Snapshots(ctx))
		}
	}
	var pause tray.Pauser // nil, and no Pause submenu, without notifications
	var batcher *notifier.Batcher
	if general.Notify {
		b := notifier.NewBatcher(general)
		batcher = b
		resumed := make(chan struct{}, 1)
		if err := notify(ctx, env.Logger, m, b, resumed); err != nil {
			env.Logger.Info("no desktop notifications", "why", err)
		} else {
			pause = pauser{b, resumed}
		}
	}
	if so.config != nil {
		go followConfig(ctx, env.Logger, accounts.Watch(ctx, env.ConfigPath, 0), m, batcher, so.config.General)
	}
	if errors.Is(err, tray.ErrNoSessionBus) {
		// Without a session bus systray cannot work, and v1.12.2 panics on
		// quit (nil connection): run headless until a signal.
		<-ctx.Done()
		cancel()
		<-managerDone
		return cli.ExitOK
	}
	opts := tray.Options{
		Logger:       env.Logger,
		OpenMail:     func(a poller.AccountSnapshot, _ poller.Mail) { openAccount(env.Logger, a) },
		Notice:       func(s string) { env.Logger.Info(s) },
		Pause:        pause,
		MarkOnServer: m.MarkReadOnServer,
	}
	opts.EditAccount = so.edit
	if settings {
		page := setup.NewLauncher(ctx, setup.Options{ConfigPath: env.ConfigPath, Engine: m, Logger: env.Logger}, opts.Notice)
		opts.AddAccount = page.Add
		opts.Accounts = page.Accounts
		opts.EditAccount = func(a poller.AccountSnapshot) { page.Edit(a.Name, a.Err) }
		opts.Autostart = &tray.Toggle{Get: autostart.Enabled, Set: setAutostart}
	}
	err = tray.Run(ctx, m, opts)
	cancel()
	if merr := <-managerDone; merr != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", merr)
		return cli.ExitFailed
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	return cli.ExitOK
}

// followConfig applies every change of the config file to the running app:
// the accounts as one ordered manager command (the manager diffs them), and
// [general] to the notifications. A config that does not load is reported
// and ignored; the app goes on with what it has.
func followConfig(ctx context.Context, log *slog.Logger, events <-chan accounts.WatchEvent, m *poller.Manager, b *notifier.Batcher, general accounts.General) {
	for ev := range events {
		if ev.Err != nil {
			log.Warn("config.toml changed but cannot be used; keeping the previous settings", "err", ev.Err)
			continue
		}
		if err := m.SetAccounts(ctx, ev.Config.Accounts); err != nil {
			return // the manager stopped: the app is quitting
		}
		if next := ev.Config.General; next != general {
			general = next
			if b != nil {
				b.SetGeneral(next)
			}
			log.Info("config: [general] changed", "notify", next.Notify, "quiet_hours", next.QuietHours)
		}
	}
}

// printChanges prints one line whenever a count or an error changes, until
// the subscription ends.
func printChanges(env *cli.Env, snaps <-chan poller.Snapshot) {
	last := ""
	for s := range snaps {
		var parts []string
		for _, a := range s.Accounts {
			switch {
			case a.Err != nil:
				parts = append(parts, fmt.Sprintf("%s: %s", a.Name, a.Err.Msg))
			case a.State == poller.StateOK:
				parts = append(parts, fmt.Sprintf("%s: %d new", a.Name, a.New))
			}
		}
		line := fmt.Sprintf("%s — total %d new", strings.Join(parts, ", "), s.Total)
		if line != last && len(parts) > 0 {
			fmt.Fprintf(env.Stdout, "%s  %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
	}
}

// setAutostart makes the session start this program at login, or stops it.
func setAutostart(on bool) error {
	if !on {
		return autostart.Disable()
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	// os.Executable may name the symlink the program was started through.
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	return autostart.Enable(exe)
}

// pauser is the notifications' Batcher as the tray's Pauser. Resume also
// wakes notify, so that what the pause held back shows at once, not at the
// next tick.
type pauser struct {
	*notifier.Batcher
	resumed chan<- struct{}
}

func (p pauser) Resume() {
	p.Batcher.Resume()
	select {
	case p.resumed <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// notify starts showing one summary notification per batch of new mail, as
// b decides, until ctx ends; a send on resumed re-offers the last snapshot
// at once. It returns why there can be no notifications, if so.
func notify(ctx context.Context, log *slog.Logger, m *poller.Manager, b *notifier.Batcher, resumed <-chan struct{}) error {
	conn, err := notifier.SessionBus(ctx)
	if err != nil {
		return err
	}
	var latest atomic.Pointer[poller.Snapshot]
	n, err := notifier.New(conn, func(action string, note notifier.Note) {
		switch action {
		case notifier.ActionOpen:
			if s := latest.Load(); s != nil {
				for _, a := range s.Accounts {
					if len(note.IDs[a.Name]) > 0 && (a.URL != "" || a.OpenCmd != "") {
						openAccount(log, a)
						return
					}
				}
			}
		case notifier.ActionMarkRead:
			var seen poller.Snapshot
			for name, ids := range note.IDs {
				seen.Accounts = append(seen.Accounts, poller.AccountSnapshot{Name: name, NewIDs: ids, New: len(ids)})
			}
			if _, err := m.MarkRead(ctx, seen, ""); err != nil {
				log.Warn("mark read from the notification failed", "err", err)
			}
		}
	})
	if err != nil {
		conn.Close()
		return err
	}
	snaps := m.Snapshots(ctx)
	go func() {
		defer conn.Close()
		defer n.Close()
		// A tick re-offers the last snapshot, so a note held back by quiet
		// hours or a pause is shown when they end.
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		var last poller.Snapshot
		lastErr := ""
		for {
			select {
			case <-ctx.Done():
				return
			case last = <-snaps:
				s := last // a copy: last changes, the stored one must not
				latest.Store(&s)
			case <-tick.C:
			case <-resumed:
			}
			if note, ok := b.Next(last, time.Now()); ok {
				// The same failure (no notification service) is said once,
				// not at every batch of mail.
				if err := n.Show(ctx, note); err != nil && err.Error() != lastErr {
					log.Warn("notification failed", "err", err)
					lastErr = err.Error()
				} else if err == nil {
					lastErr = ""
				}
			}
		}
	}()
	return nil
}

// openAccount opens the account's url, or runs its open_command.
func openAccount(log *slog.Logger, a poller.AccountSnapshot) {
	launch.Account(log, a.Name, a.URL, a.OpenCmd)
}
