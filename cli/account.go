package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
	"mailsneaker/poller"
	"mailsneaker/seen"
	"mailsneaker/setup"
)

// stringList is a repeatable string flag (--folder A --folder B).
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Account runs `mailsneaker account add|list|remove`.
func Account(ctx context.Context, e *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.Stderr, "usage: mailsneaker account add|list|remove ...")
		return ExitUsage
	}
	switch args[0] {
	case "add":
		return accountAdd(ctx, e, args[1:])
	case "list":
		return accountList(e, args[1:])
	case "remove":
		return accountRemove(ctx, e, args[1:])
	}
	fmt.Fprintf(e.Stderr, "mailsneaker account: unknown command %q (use add, list or remove)\n", args[0])
	return ExitUsage
}

func accountAdd(ctx context.Context, e *Env, args []string) int {
	fs := e.newFlagSet("account add", "account add --name N --protocol imap|pop3 --host H [--port P] [--security tls|starttls|none] --username U [--folder F]... [--password-stdin] [--password-command CMD] [--ca-file F] [--no-verify] | --sign-in")
	var a accounts.Account
	var folders stringList
	var protocol, security, poll string
	fs.StringVar(&a.Name, "name", "", "account name, shown in the tray")
	fs.StringVar(&protocol, "protocol", "imap", "imap or pop3")
	fs.StringVar(&a.Host, "host", "", "server host name")
	fs.IntVar(&a.Port, "port", 0, "server port (default from protocol and security)")
	fs.StringVar(&security, "security", "tls", "tls, starttls or none")
	fs.StringVar(&a.Username, "username", "", "login name")
	fs.Var(&folders, "folder", "IMAP folder to watch (repeatable; default INBOX)")
	fs.StringVar(&poll, "poll-interval", "", "how often to poll (POP3, IMAP without IDLE), e.g. 5m")
	fs.StringVar(&a.CAFile, "ca-file", "", "PEM file of extra trusted CAs")
	fs.StringVar(&a.PasswordCommand, "password-command", "", "command printing the password (instead of the keychain)")
	fs.BoolVar(&a.CountExisting, "count-existing", false, "POP3: count mail already on the server as new")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	noVerify := fs.Bool("no-verify", false, "save without logging in first")
	signIn := fs.Bool("sign-in", false, "Gmail, Outlook: sign in with Google or Microsoft on the Add account page in the browser")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return ExitUsage
	}
	if *signIn {
		if fs.NFlag() > 1 {
			fmt.Fprintln(e.Stderr, "mailsneaker account add: --sign-in takes no other flag: the page asks for the address and detects the rest")
			return ExitUsage
		}
		return accountSignIn(ctx, e)
	}
	a.Protocol, a.Security, a.Folders = accounts.Protocol(protocol), accounts.Security(security), folders
	if poll != "" {
		d, err := time.ParseDuration(poll)
		if err != nil {
			return e.fail(fmt.Errorf("--poll-interval %q: %w", poll, err))
		}
		a.PollInterval = d
	}
	a = a.WithDefaults()
	if err := a.Validate(); err != nil {
		return e.fail(err)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return e.fail(err)
	}
	if _, dup := cfg.Account(a.Name); dup {
		return e.fail(fmt.Errorf("an account named %q exists already in %s (remove it first)", a.Name, e.ConfigPath))
	}

	var password string
	if a.PasswordCommand == "" {
		password, err = e.readPassword(a, *pwStdin)
		if err != nil {
			return e.fail(err)
		}
	}
	if !*noVerify {
		o := e.CheckerOptions(a)
		if a.PasswordCommand == "" {
			o.Password = func(context.Context) (string, error) { return password, nil }
		}
		fmt.Fprintf(e.Stderr, "checking %s at %s ...\n", a.Username, a.Addr())
		in, err := poller.Verify(ctx, a, o)
		if err != nil {
			fmt.Fprintf(e.Stderr, "mailsneaker: %v\nnot saved (use --no-verify to save anyway)\n", err)
			return ExitFailed
		}
		fmt.Fprintf(e.Stderr, "connected: %d messages\n", in.Messages)
	}
	if a.PasswordCommand == "" {
		if err := e.Keychain.Set(ctx, a.Name, password); err != nil {
			return e.fail(fmt.Errorf("not saved: %w", err))
		}
	}
	if err := accounts.AddAccount(e.ConfigPath, a); err != nil {
		if a.PasswordCommand == "" {
			e.Keychain.Delete(ctx, a.Name)
		}
		return e.fail(err)
	}
	fmt.Fprintf(e.Stdout, "added account %q to %s\n", a.Name, e.ConfigPath)
	return ExitOK
}

// accountSignIn is `account add --sign-in`: an oauth2 account (auth =
// "oauth2") is made by signing in at the provider, which only a browser
// can do, so it opens the tray's Add account page (the sign-in, the
// keychain and config.toml are the page's) and waits until it is saved or
// given up.
func accountSignIn(ctx context.Context, e *Env) int {
	before := map[string]bool{}
	if cfg, err := e.loadConfig(); err == nil {
		for _, a := range cfg.Accounts {
			before[a.Name] = true
		}
	}
	o := setup.Options{ConfigPath: e.ConfigPath, Logger: e.Logger}
	if e.Keychain != nil {
		o.Secrets = e.Keychain
	}
	page := setup.NewLauncher(ctx, o, func(msg string) { fmt.Fprintln(e.Stderr, "mailsneaker: "+msg) })
	page.Add()
	fmt.Fprintf(e.Stderr, "the Add account page is open in your browser: enter the address, press Sign in with Google or Microsoft, then Save (it closes after %d idle minutes)\n", int(setup.DefaultIdleTimeout.Minutes()))
	why := page.Wait(ctx)
	if why == "saved" {
		if cfg, err := e.loadConfig(); err == nil {
			for _, a := range cfg.Accounts {
				if !before[a.Name] {
					fmt.Fprintf(e.Stdout, "added account %q to %s\n", a.Name, e.ConfigPath)
				}
			}
		}
		return ExitOK
	}
	if why == "" {
		why = "stopped"
	}
	fmt.Fprintf(e.Stderr, "mailsneaker: the page closed (%s); no account was added\n", why)
	return ExitFailed
}

// readPassword reads the password from stdin: without echo on a terminal,
// else its first line.
func (e *Env) readPassword(a accounts.Account, fromStdin bool) (string, error) {
	in := e.stdin()
	if f, ok := in.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.Stderr, "password for %s at %s: ", a.Username, a.Host)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if len(b) == 0 {
			return "", errors.New("empty password")
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil {
			return "", fmt.Errorf("no password on stdin (use --password-stdin and pipe it in): %v", err)
		}
		return "", errors.New("empty password on stdin")
	}
	return line, nil
}

func accountList(e *Env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintln(e.Stderr, "usage: mailsneaker account list")
		return ExitUsage
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return e.fail(err)
	}
	if len(cfg.Accounts) == 0 {
		fmt.Fprintf(e.Stdout, "no accounts in %s\n", e.ConfigPath)
		return ExitOK
	}
	for _, a := range cfg.Accounts {
		where := a.Folders
		if a.Protocol == accounts.POP3 {
			where = nil
		}
		fmt.Fprintf(e.Stdout, "%s\t%s\t%s@%s\t%s", a.Name, a.Protocol, a.Username, a.Addr(), a.Security)
		if len(where) > 0 {
			fmt.Fprintf(e.Stdout, "\t%s", strings.Join(where, ","))
		}
		fmt.Fprintln(e.Stdout)
	}
	return ExitOK
}

func accountRemove(ctx context.Context, e *Env, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(e.Stderr, "usage: mailsneaker account remove NAME")
		return ExitUsage
	}
	name := args[0]
	cfg, err := e.loadConfig()
	if err != nil {
		return e.fail(err)
	}
	a, ok := cfg.Account(name)
	if !ok {
		return e.fail(fmt.Errorf("no account named %q in %s", name, e.ConfigPath))
	}
	if err := accounts.RemoveAccount(e.ConfigPath, name); err != nil {
		return e.fail(err)
	}
	if a.PasswordCommand == "" {
		if err := e.Keychain.Delete(ctx, name); err != nil && !errors.Is(err, accounts.ErrNoPassword) {
			fmt.Fprintf(e.Stderr, "warning: the keychain entry of %q was not deleted: %v\n", name, err)
		}
	}
	if a.OAuth2() {
		if err := oauth.DeleteGrant(ctx, e.Keychain, name); err != nil {
			fmt.Fprintf(e.Stderr, "warning: the sign-in of %q was not deleted from the keychain: %v\n", name, err)
		}
	}
	if store, err := seen.Open(e.StateDir); err == nil {
		store.RemoveAccount(name)
		if err := store.Save(); err != nil {
			fmt.Fprintf(e.Stderr, "warning: %v\n", err)
		}
	}
	fmt.Fprintf(e.Stdout, "removed account %q\n", name)
	return ExitOK
}
