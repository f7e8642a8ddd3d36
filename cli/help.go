package cli

import (
	"fmt"
	"io"
	"strings"
)

// Flag is one command-line flag as the help describes it.
type Flag struct {
	Name  string // without dashes: "json"
	Arg   string // the value's placeholder ("NAME"); "" for a boolean flag
	Usage string // one line
}

// Command is one command of mailsneaker as the help describes it.
type Command struct {
	Name     string // "check", "account add"; "" is the tray (no command)
	Synopsis string // what follows the name: "[--json] [--account NAME]"
	Summary  string // one line for the usage text
	Text     string // the man page's paragraph; "" repeats Summary
	Flags    []Flag
}

// Reference describes mailsneaker's command line: the usage text of
// `mailsneaker -h`, the man page mailsneaker(1) and the shell completions
// are all made from it, so none of them can name a command or flag the
// others do not. The flags themselves are defined where they are parsed;
// tests check that those match this table.
type Reference struct {
	Name     string
	Summary  string // the man page's NAME line
	Text     []string
	Global   []Flag
	Commands []Command
	Exit     []ExitStatus
	Files    [][2]string // path, what it is
	SeeAlso  []string
}

// ExitStatus is one exit code and what it means.
type ExitStatus struct {
	Code int
	Text string
}

// Help returns the reference of mailsneaker's command line.
func Help() Reference {
	return Reference{
		Name:    "mailsneaker",
		Summary: "system-tray notifier for new mail on IMAP and POP3 accounts",
		Text: []string{
			"MailSneaker watches IMAP and POP3 accounts and shows on a system-tray icon how many new mails there are, with a desktop notification for each batch. It never changes a mailbox unless asked to: IMAP folders are opened read-only and POP3 never deletes.",
			"Without a command it runs the tray. The commands below check from the command line or manage the accounts; passwords go to the OS keychain (Secret Service on Linux) or come from an account's password_command.",
		},
		Global: []Flag{
			{Name: "v", Usage: "debug logs"},
			{Name: "version", Usage: "print the version"},
		},
		Commands: []Command{
			{Name: "", Summary: "run the tray",
				Text: "Run the tray icon and desktop notifications until Quit is chosen from the menu or a signal arrives."},
			{Name: "demo", Synopsis: "[--trouble]", Summary: "run the tray on built-in demo servers with mail arriving",
				Flags: []Flag{{Name: "trouble", Usage: "add an account with a wrong password and one whose server is unreachable"}}},
			{Name: "check", Synopsis: "[--json] [--account NAME]",
				Summary: "check once; print the new mail (exit 1 if an account failed)",
				Text:    "Check every account once and print its new mail. The JSON output is a stable contract for scripts.",
				Flags: []Flag{
					{Name: "json", Usage: "print JSON"},
					{Name: "account", Arg: "NAME", Usage: "check only this account"},
				}},
			{Name: "mark-read", Synopsis: "[--account NAME] [--on-server]",
				Summary: "check once, then mark what is new as read",
				Flags: []Flag{
					{Name: "account", Arg: "NAME", Usage: "mark only this account's mail"},
					{Name: "on-server", Usage: `also set \Seen on the IMAP server (changes the mailbox)`},
				}},
			{Name: "account add", Synopsis: "--name N --protocol imap|pop3 --host H [--port P] [--security tls|starttls|none] --username U [--folder F]... [--password-stdin] [--password-command CMD] [--ca-file F] [--no-verify] | --sign-in",
				Summary: "add an account; the password goes to the OS keychain",
				Text:    "Add an account to the config file. Unless --no-verify is given it logs in first; the password is asked for on the terminal (or read from stdin) and stored in the OS keychain, never in a file. Gmail and Outlook accounts that sign in with Google or Microsoft (OAuth2) are added with --sign-in alone: it opens the Add account page in the browser, where the sign-in happens, and waits until the account is saved.",
				Flags: []Flag{
					{Name: "name", Arg: "N", Usage: "account name, shown in the tray"},
					{Name: "protocol", Arg: "imap|pop3", Usage: "imap or pop3"},
					{Name: "host", Arg: "H", Usage: "server host name"},
					{Name: "port", Arg: "P", Usage: "server port (default from protocol and security)"},
					{Name: "security", Arg: "tls|starttls|none", Usage: "tls, starttls or none"},
					{Name: "username", Arg: "U", Usage: "login name"},
					{Name: "folder", Arg: "F", Usage: "IMAP folder to watch (repeatable; default INBOX)"},
					{Name: "poll-interval", Arg: "D", Usage: "how often to poll (POP3, IMAP without IDLE), e.g. 5m"},
					{Name: "ca-file", Arg: "F", Usage: "PEM file of extra trusted CAs"},
					{Name: "password-command", Arg: "CMD", Usage: "command printing the password (instead of the keychain)"},
					{Name: "count-existing", Usage: "POP3: count mail already on the server as new"},
					{Name: "password-stdin", Usage: "read the password from the first line of stdin"},
					{Name: "no-verify", Usage: "save without logging in first"},
					{Name: "sign-in", Usage: "Gmail, Outlook: sign in with Google or Microsoft on the Add account page in the browser"},
				}},
			{Name: "account list", Summary: "list the accounts"},
			{Name: "account remove", Synopsis: "NAME", Summary: "remove an account and its keychain entry"},
		},
		Exit: []ExitStatus{
			{ExitOK, "success: every account was checked"},
			{ExitFailed, "an account failed; the others were still printed"},
			{ExitUsage, "bad arguments or a bad config file"},
			{ExitAborted, "interrupted"},
		},
		Files: [][2]string{
			{"$XDG_CONFIG_HOME/mailsneaker/config.toml", "the accounts and [general] settings (default ~/.config/mailsneaker/config.toml); the running tray follows edits"},
			{"$XDG_STATE_HOME/mailsneaker/", "the seen set and its lock (default ~/.local/state/mailsneaker/); delete it to start over"},
		},
		SeeAlso: []string{"secret-tool(1)", "gnome-keyring-daemon(1)"},
	}
}

// command is "mailsneaker NAME SYNOPSIS", without empty parts.
func (c Command) command() string {
	parts := []string{"mailsneaker"}
	for _, p := range []string{c.Name, c.Synopsis} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// text is the man page's paragraph.
func (c Command) text() string {
	if c.Text != "" {
		return c.Text
	}
	return strings.ToUpper(c.Summary[:1]) + c.Summary[1:] + "."
}

// Usage writes the text of `mailsneaker -h`, up to the global flags (the
// flag package prints those).
func (r Reference) Usage(w io.Writer) {
	var globals []string
	for _, f := range r.Global {
		globals = append(globals, "[-"+f.Name+"]")
	}
	fmt.Fprintf(w, "usage: %s %s [command]\ncommands:\n", r.Name, strings.Join(globals, " "))
	for _, c := range r.Commands {
		name := c.Name
		if name == "" {
			name = "(none)"
		}
		switch {
		case len(c.Synopsis) > 40: // the man page and `COMMAND -h` have it in full
			name += " [flags]"
		case c.Synopsis != "":
			name += " " + c.Synopsis
		}
		// Long synopses get their own line, as the flag package does.
		const col = 16
		if len(name) < col-1 {
			fmt.Fprintf(w, "  %-*s%s\n", col, name, c.Summary)
		} else {
			fmt.Fprintf(w, "  %s\n  %*s%s\n", name, col, "", c.Summary)
		}
	}
	fmt.Fprintf(w, "Run `%s COMMAND -h` for a command's flags; `man %s` for the manual.\n", r.Name, r.Name)
}
