package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

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
	"mailsneaker/wake"
)

// runTray runs the tray on the user's config until Quit or a signal.
func runTray(ctx context.Context, env *cli.Env) int {
	release, err := instance.Lock(env.StateDir, "tray.lock")
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	defer release()
	cfg, err := env.TrayConfig()
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitUsage
	}
	m, err := env.Manager(cfg.Accounts)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	page := setup.NewLauncher(ctx, setup.Options{ConfigPath: env.ConfigPath, Engine: m, Logger: env.Logger}, notice(env))
	return serve(ctx, env, m, serveOptions{general: cfg.General, settings: true, config: cfg, page: page})
}

// runDemo runs the tray on the built-in demo servers, with a temporary
// config and state and in-memory passwords; --trouble adds failing accounts.
func runDemo(ctx context.Context, env *cli.Env, args []string) int {
	trouble, err := cli.DemoArgs(env, args)
	if err != nil {
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
	cfg, err := d.Prepare(dir, trouble)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker: demo:", err)
		return cli.ExitFailed
	}
	go d.Run(ctx)
	secrets := d.Secrets()
	denv := *env // the demo's state, and its passwords
	denv.StateDir = dir
	denv.Options = func(a accounts.Account) *poller.Options {
		return &poller.Options{Password: secrets.PasswordOf(a.Name), Logger: env.Logger}
	}
	m, err := denv.Manager(d.Accounts)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	page := setup.NewLauncher(ctx, setup.Options{ConfigPath: cfg, Secrets: secrets, Engine: m, Logger: env.Logger}, notice(env))
	so := serveOptions{general: accounts.General{Notify: true}, printCounts: true, page: page}
	if trouble {
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
	page        *setup.Launcher  // the setup page: "Edit account…", and with settings the rest
}

// serve runs the manager, notifications and the tray until Quit or ctx ends.
func serve(ctx context.Context, env *cli.Env, m *poller.Manager, so serveOptions) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	managerDone := make(chan error, 1)
	go func() { managerDone <- m.Run(ctx) }()
	go wake.Follow(ctx, env.Logger, wake.Address(), m)

	host, hostErr := tray.HostAvailable(ctx)
	if !host {
		fmt.Fprintln(env.Stderr, tray.NoHostHint(hostErr))
		if so.printCounts {
			go cli.PrintChanges(env.Stdout, m.Snapshots(ctx))
		}
	}
	var pause tray.Pauser // nil, and no Pause submenu, without notifications
	var batcher *notifier.Batcher
	if so.general.Notify {
		batcher = notifier.NewBatcher(so.general)
		n, err := notifier.Start(ctx, notifier.Options{
			Batcher:  batcher,
			Open:     func(a poller.AccountSnapshot, ml poller.Mail) { openMail(env, a, ml) },
			MarkRead: m.MarkRead,
			Logger:   env.Logger,
		})
		if err != nil {
			env.Logger.Warn("no desktop notifications", "why", err)
		} else {
			pause = n
			go n.Run(ctx, m.Snapshots(ctx))
		}
	}
	if so.config != nil {
		go m.FollowConfig(ctx, accounts.Watch(ctx, env.ConfigPath, 0), so.config.General, batcher.SetGeneral)
	}
	if errors.Is(hostErr, tray.ErrNoSessionBus) {
		// Without a session bus systray cannot work, and v1.12.2 panics on
		// quit (nil connection): run headless until a signal.
		<-ctx.Done()
		cancel()
		<-managerDone
		return cli.ExitOK
	}
	opts := tray.Options{
		Logger:       env.Logger,
		OpenMail:     func(a poller.AccountSnapshot, ml poller.Mail) { openMail(env, a, ml) },
		Notice:       notice(env),
		Pause:        pause,
		MarkOnServer: m.MarkReadOnServer,
	}
	if page := so.page; page != nil {
		opts.EditAccount = func(a poller.AccountSnapshot) { page.Edit(a.Name, a.Err) }
		if so.settings {
			opts.AddAccount, opts.Accounts = page.Add, page.Accounts
			opts.Autostart = &tray.Toggle{Get: autostart.Enabled, Set: autostart.Set}
			opts.SetEnabled = func(name string, on bool) error { return accounts.SetEnabled(env.ConfigPath, name, on) }
		}
	}
	err := tray.Run(ctx, m, opts)
	cancel()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err = errors.Join(<-managerDone, err); err != nil {
		fmt.Fprintln(env.Stderr, "mailsneaker:", err)
		return cli.ExitFailed
	}
	return cli.ExitOK
}

// notice tells the user something from the tray or the page: in the log.
func notice(env *cli.Env) func(string) { return func(s string) { env.Logger.Info(s) } }

// openMail opens mail ml of account a (a click in the menu or on a note).
func openMail(env *cli.Env, a poller.AccountSnapshot, ml poller.Mail) {
	uid := ml.ID
	if _, _, u, ok := poller.ParseIMAPID(ml.ID); ok {
		uid = strconv.FormatUint(uint64(u), 10)
	}
	launch.Open(env.Logger, launch.Mail{Account: a.Name, OpenCommand: a.OpenCmd, OpenWith: accounts.OpenWith(a.OpenWith),
		URL: a.URL, MessageID: ml.MessageID, Folder: ml.Folder, UID: uid})
}
