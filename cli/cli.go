// Package cli holds MailSneaker's command-line commands — check, mark-read
// and account — the contract that scripts and tests rely on.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
	"mailsneaker/poller"
	"mailsneaker/seen"
)

// Exit codes of every command.
const (
	ExitOK      = 0 // every account was checked
	ExitFailed  = 1 // an account or the state dir failed (unwritable, disk full)
	ExitUsage   = 2 // bad arguments or a bad config file, and nothing else
	ExitAborted = 3 // interrupted
)

// Env is what a command needs from its process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Logger         *slog.Logger
	ConfigPath     string             // config.toml
	StateDir       string             // where the seen set lives
	Keychain       *accounts.Keychain // nil: the defaults
	// Options overrides the checker options of an account (tests); nil
	// means passwords from accounts.Password and default timeouts.
	Options func(a accounts.Account) *poller.Options
	// OAuth keeps the access tokens of oauth2 accounts, one source per
	// account shared by its checkers; nil: a new source per login.
	OAuth *oauth.Sources
}

// NewEnv is the env of a real run: the user's config and state paths and
// the OS keychain.
func NewEnv(stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) (*Env, error) {
	cfgPath, err := accounts.DefaultConfigPath()
	if err != nil {
		return nil, err
	}
	stateDir, err := accounts.StateDir()
	if err != nil {
		return nil, err
	}
	kc := &accounts.Keychain{}
	return &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Logger: logger,
		ConfigPath: cfgPath, StateDir: stateDir, Keychain: kc, OAuth: &oauth.Sources{KC: kc}}, nil
}

// CheckerOptions gives the checker options of a: its password from the
// keychain or password_command, and the env's logger.
func (e *Env) CheckerOptions(a accounts.Account) *poller.Options {
	if e.Options != nil {
		return e.Options(a)
	}
	o := &poller.Options{
		Password: func(ctx context.Context) (string, error) { return accounts.Password(ctx, a, e.Keychain) },
		Logger:   e.Logger, // the checkers name the account on their lines
	}
	switch {
	case a.OAuth2() && e.OAuth != nil:
		o.OAuth = e.OAuth.For(a)
	case a.OAuth2():
		o.OAuth = oauth.NewSource(a, e.Keychain, nil)
	}
	return o
}

// loadConfig reads the config; a missing file is an empty config with a hint.
func (e *Env) loadConfig() (*accounts.Config, error) {
	cfg, err := accounts.Load(e.ConfigPath)
	if errors.Is(err, fs.ErrNotExist) {
		return &accounts.Config{General: accounts.General{Notify: true}}, nil
	}
	return cfg, err
}

// manager opens the seen set and makes a manager for the accounts of cfg,
// or only the one named.
func (e *Env) manager(cfg *accounts.Config, only string) (*poller.Manager, error) {
	accts := cfg.Accounts
	if only != "" {
		a, ok := cfg.Account(only)
		if !ok {
			return nil, fmt.Errorf("no account named %q in %s", only, e.ConfigPath)
		}
		accts = []accounts.Account{a}
	}
	return e.Manager(accts)
}

// Manager opens the seen set, warns on stderr when it had to be recovered,
// and makes a manager for accts with the env's checker options.
func (e *Env) Manager(accts []accounts.Account) (*poller.Manager, error) {
	store, err := seen.Open(e.StateDir)
	if err != nil {
		return nil, runFailure{fmt.Errorf("open the seen-mail state: %w", err)}
	}
	if msg := store.Recovered(); msg != "" {
		fmt.Fprintln(e.Stderr, "warning:", msg)
	}
	return poller.NewManager(poller.ManagerOptions{
		Accounts:       accts,
		Store:          store,
		CheckerOptions: e.CheckerOptions,
		Logger:         e.Logger,
	}), nil
}

// newFlagSet makes a flag set that prints its errors to the env's stderr.
func (e *Env) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "usage: mailsneaker %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// runFailure marks an error of the machine rather than of the user's
// arguments or config (the state dir is read-only, the disk is full), so
// that scripts retry it instead of asking for a fix of the command line.
type runFailure struct{ err error }

func (r runFailure) Error() string { return r.err.Error() }
func (r runFailure) Unwrap() error { return r.err }

// fail prints err and returns the exit code for it: ExitAborted when
// interrupted, ExitFailed for a runFailure, ExitUsage otherwise.
func (e *Env) fail(err error) int {
	fmt.Fprintln(e.Stderr, "mailsneaker:", err)
	var rf runFailure
	switch {
	case errors.Is(err, context.Canceled):
		return ExitAborted
	case errors.As(err, &rf):
		return ExitFailed
	}
	return ExitUsage
}

// Stdin is os.Stdin unless the env says otherwise.
func (e *Env) stdin() io.Reader {
	if e.Stdin != nil {
		return e.Stdin
	}
	return os.Stdin
}

// DemoArgs parses the demo command's arguments: whether to add the failing
// accounts (--trouble). It prints the usage on an error.
func DemoArgs(e *Env, args []string) (trouble bool, err error) {
	fs := e.newFlagSet("demo", "demo [--trouble]")
	t := fs.Bool("trouble", false, "add an account with a wrong password and one whose server is unreachable")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return false, fmt.Errorf("demo takes no arguments")
	}
	return *t, nil
}

// TrayConfig loads the config for the tray. No config file yet is no
// accounts, with a hint on stderr on how to add one.
func (e *Env) TrayConfig() (*accounts.Config, error) {
	cfg, err := accounts.Load(e.ConfigPath)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(e.Stderr, "no accounts yet: add one from the tray (Add account…) or with `mailsneaker account add`; config: %s\n", e.ConfigPath)
		return &accounts.Config{General: accounts.General{Notify: true}}, nil
	}
	return cfg, err
}
