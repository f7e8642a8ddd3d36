package launch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os/exec"
	"runtime"
	"strings"

	"mailsneaker/accounts"
)

// Mail is one mail to open, and the settings of its account that say how.
type Mail struct {
	Account     string            // the account's name: {account}
	OpenCommand string            // open_command, with placeholders
	OpenWith    accounts.OpenWith // open_with, a built-in opener
	URL         string            // url: {url}, and what opens when nothing more exact can
	MessageID   string            // the Message-ID header, with or without <>: {message_id} (without)
	Folder      string            // {folder}
	UID         string            // IMAP UID, or POP3 UIDL: {uid}
}

// values are the placeholder values of m.
func (m Mail) values() Values {
	return Values{"message_id": bareID(m.MessageID), "folder": m.Folder, "uid": m.UID, "account": m.Account, "url": m.URL}
}

// bareID is a Message-ID without its angle brackets and spaces.
func bareID(id string) string {
	id = strings.TrimSpace(id)
	return strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
}

// action is what opening a mail comes to: a page or mid: URL for the
// system's opener, or a program's argv.
type action struct {
	url  string
	argv []string
}

// plan decides how to open m: open_command (its placeholders filled), else
// open_with, else the account's url; goos is the system.
func plan(m Mail, goos string) (action, error) {
	id := bareID(m.MessageID)
	switch {
	case m.OpenCommand != "":
		if goos == "windows" {
			if shell, err := needsShell(m.OpenCommand); err != nil || shell {
				return action{}, errors.New("open_command uses shell syntax, which needs sh: on Windows write the program and its arguments only")
			}
		}
		argv, err := Argv(m.OpenCommand, m.values())
		if err == nil && goos == "windows" {
			err = batchSafe(argv[0], m)
		}
		return action{argv: argv}, err
	case m.OpenWith == accounts.OpenThunderbird && id != "":
		return action{argv: []string{"thunderbird", "mid:" + id}}, nil
	case m.OpenWith == accounts.OpenThunderbird:
		return action{argv: []string{"thunderbird", "-mail"}}, nil
	case m.OpenWith == accounts.OpenGmail && id != "":
		return action{url: "https://mail.google.com/mail/u/0/#search/rfc822msgid:" + url.QueryEscape(id)}, nil
	case m.OpenWith == accounts.OpenGmail:
		return action{url: "https://mail.google.com/mail/u/0/#inbox"}, nil
	case m.OpenWith == accounts.OpenOutlook && m.URL == "":
		// Outlook on the web links mails by its own item ids only, never
		// by Message-ID: the inbox is the nearest.
		return action{url: "https://outlook.office.com/mail/"}, nil
	case m.OpenWith == accounts.OpenDefault && id != "":
		return action{url: "mid:" + url.PathEscape(id)}, nil // RFC 2392
	case m.URL != "":
		return action{url: m.URL}, nil
	}
	return action{}, nil
}

// Open opens the mail m as its account says (see plan), and does not wait
// for the mail client. Failures are logged: a click in the tray or on a
// notification has nobody to return them to.
func Open(log *slog.Logger, m Mail) {
	if err := open(m); err != nil {
		log.Warn("cannot open the mail", "account", m.Account, "err", err)
	}
}

func open(m Mail) error {
	a, err := plan(m, runtime.GOOS)
	switch {
	case err != nil:
		return err
	case a.url != "":
		return URL(a.url)
	case len(a.argv) > 0:
		if runtime.GOOS == "windows" && m.OpenCommand != "" {
			// "open" may be found as open.cmd through PATHEXT.
			if p, err := exec.LookPath(a.argv[0]); err == nil {
				if err := batchSafe(p, m); err != nil {
					return err
				}
			}
		}
		// The mail client outlives the click and may outlive the tray.
		cmd := exec.CommandContext(context.Background(), a.argv[0], a.argv[1:]...)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("run %s: %w", a.argv[0], err)
		}
		go cmd.Wait()
	}
	return nil
}

// cmdMeta are the characters cmd.exe gives a meaning in a command line.
const cmdMeta = "\"&|<>^%!()\r\n"

// batchSafe refuses to run a Windows batch file (.bat, .cmd) with a
// placeholder value that holds a character cmd.exe reads: Windows runs a
// batch file through cmd.exe, which parses the whole command line again,
// quotes or not, so a Message-ID such as <x"&calc&"@y> would run calc.
// Other programs get their argv as it is.
func batchSafe(prog string, m Mail) error {
	base := prog[strings.LastIndexAny(prog, `/\`)+1:]
	name := strings.TrimRight(base, ". ") // Windows drops trailing dots and spaces
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = strings.ToLower(name[i:])
	}
	if ext != ".bat" && ext != ".cmd" {
		return nil
	}
	values := m.values()
	for _, name := range accounts.Placeholders() {
		if v := values[name]; strings.Contains(m.OpenCommand, "{"+name+"}") && strings.ContainsAny(v, cmdMeta) {
			return fmt.Errorf("{%s} is %q, which a batch file (%s) would read as cmd.exe syntax: not run", name, v, base)
		}
	}
	return nil
}
