package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"mailsneaker/accounts"
	"mailsneaker/autostart"
	"mailsneaker/cli"
	"mailsneaker/demo"
	"mailsneaker/instance"
	"mailsneaker/launch"
	"mailsneaker/notifier"
	"mailsneaker/poller"
	"mailsneaker/setup"
	"mailsneaker/tray"
)

// runTray runs the tray on the user's config until Quit or a signal.
func runTray(ctx context.Context, env *cli.Env) int {
	release, err := instance.Lock(env.StateDir, "tray.lock")
	if errors.Is(err, instance.ErrRunning) {
		err = errors.New("MailSneaker is already running (look for its icon in the tray); quit it first")
	}
	if err != nil {
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
	m, err := env.Manager(cfg.Accounts)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
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
	secrets := d.Secrets()
	denv := *env // the demo's state, and its passwords
	denv.StateDir = dir
	denv.Options = func(a accounts.Account) *poller.Options {
		return &poller.Options{Password: func(ctx context.Context) (string, error) { return secrets.Get(ctx, a.Name) }, Logger: env.Logger}
	}
	m, err := denv.Manager(d.Accounts)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	managerDone := make(chan error, 1)
	go func() { managerDone <- m.Run(ctx) }()

	host, err := tray.HostAvailable(ctx)
	if !host {
		why := fmt.Sprintf(" (%v)", err)
		if err == nil {
			why = ""
		}
		fmt.Fprintf(env.Stderr, "no system tray found%s: install a StatusNotifier host (GNOME: the AppIndicator extension); the icon appears when one starts. `mailsneaker check` works without a tray.\n", why)
		if so.printCounts {
			go cli.PrintChanges(env.Stdout, m.Snapshots(ctx))
		}
	}
	var pause tray.Pauser // nil, and no Pause submenu, without notifications
	var batcher *notifier.Batcher
	if so.general.Notify {
		batcher = notifier.NewBatcher(so.general)
		n, err := notifier.Start(ctx, notifier.Options{
			Batcher: batcher,
			Open:    func(a poller.AccountSnapshot) { launch.Account(env.Logger, a.Name, a.URL, a.OpenCmd) },
			MarkRead: func(ctx context.Context, s poller.Snapshot) error {
				_, err := m.MarkRead(ctx, s, "")
				return err
			},
			Logger: env.Logger,
		})
		if err != nil {
			env.Logger.Warn("no desktop notifications", "why", err)
		} else {
			pause = n
			go n.Run(ctx, m.Snapshots(ctx))
		}
	}
	if so.config != nil {
		var onGeneral func(accounts.General)
		if batcher != nil {
			onGeneral = batcher.SetGeneral
		}
		go m.FollowConfig(ctx, accounts.Watch(ctx, env.ConfigPath, 0), so.config.General, onGeneral)
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
		OpenMail:     func(a poller.AccountSnapshot, _ poller.Mail) { launch.Account(env.Logger, a.Name, a.URL, a.OpenCmd) },
		Notice:       func(s string) { env.Logger.Info(s) },
		Pause:        pause,
		MarkOnServer: m.MarkReadOnServer,
	}
	opts.EditAccount = so.edit
	if so.settings {
		page := setup.NewLauncher(ctx, setup.Options{ConfigPath: env.ConfigPath, Engine: m, Logger: env.Logger}, opts.Notice)
		opts.AddAccount = page.Add
		opts.Accounts = page.Accounts
		opts.EditAccount = func(a poller.AccountSnapshot) { page.Edit(a.Name, a.Err) }
		opts.Autostart = &tray.Toggle{Get: autostart.Enabled, Set: autostart.Set}
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
