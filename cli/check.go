package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"mailsneaker/poller"
)

// jsonReport is the --json output of check; its shape is a contract.
type jsonReport struct {
	Total    int           `json:"total"`
	Accounts []jsonAccount `json:"accounts"`
}

type jsonAccount struct {
	Name     string        `json:"name"`
	Protocol string        `json:"protocol"`
	New      int           `json:"new"`
	Unread   *int          `json:"unread"`
	Error    string        `json:"error"`
	Messages []jsonMessage `json:"messages"`
}

type jsonMessage struct {
	Folder  string `json:"folder"`
	From    string `json:"from"`
	Subject string `json:"subject"`
	Date    string `json:"date"`
}

// Check runs `mailsneaker check [--json] [--account NAME]`.
func Check(ctx context.Context, e *Env, args []string) int {
	fs := e.newFlagSet("check", "check [--json] [--account NAME]")
	asJSON := fs.Bool("json", false, "print JSON")
	only := fs.String("account", "", "check only this account")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return ExitUsage
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return e.fail(err)
	}
	if len(cfg.Accounts) == 0 {
		fmt.Fprintf(e.Stderr, "no accounts in %s: add one with `mailsneaker account add`\n", e.ConfigPath)
	}
	m, err := e.manager(cfg, *only)
	if err != nil {
		return e.fail(err)
	}
	snap := m.CheckOnce(ctx)
	if ctx.Err() != nil {
		return e.fail(ctx.Err())
	}
	if *asJSON {
		printJSON(e, snap)
	} else {
		printText(e, snap)
	}
	if snap.Errors() > 0 {
		return ExitFailed
	}
	return ExitOK
}

func printJSON(e *Env, snap poller.Snapshot) {
	r := jsonReport{Total: snap.Total, Accounts: []jsonAccount{}}
	for _, a := range snap.Accounts {
		ja := jsonAccount{Name: a.Name, Protocol: a.Protocol, New: a.New, Messages: []jsonMessage{}}
		if a.Unread >= 0 && a.State == poller.StateOK {
			u := a.Unread
			ja.Unread = &u
		}
		if a.Err != nil {
			ja.Error = a.Err.Error()
		}
		for _, m := range a.Mails {
			jm := jsonMessage{Folder: m.Folder, From: m.From, Subject: m.Subject}
			if !m.Date.IsZero() {
				jm.Date = m.Date.Format(time.RFC3339)
			}
			ja.Messages = append(ja.Messages, jm)
		}
		r.Accounts = append(r.Accounts, ja)
	}
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(r)
}

// printText prints per account the new count and the newest new mails, then
// the total.
func printText(e *Env, snap poller.Snapshot) {
	for _, a := range snap.Accounts {
		switch {
		case a.Err != nil:
			fmt.Fprintf(e.Stdout, "%s: error: %s\n", a.Name, a.Err)
			continue
		case a.Paused:
			fmt.Fprintf(e.Stdout, "%s: paused (enabled = false)\n", a.Name)
			continue
		case a.New == 1:
			fmt.Fprintf(e.Stdout, "%s: 1 new mail\n", a.Name)
		default:
			fmt.Fprintf(e.Stdout, "%s: %d new mails\n", a.Name, a.New)
		}
		for i, m := range a.Mails {
			if i == 10 {
				fmt.Fprintf(e.Stdout, "  … and %d more\n", a.New-i)
				break
			}
			fmt.Fprintf(e.Stdout, "  %s — %s\n", m.From, m.Subject)
		}
		if a.Notice != "" {
			fmt.Fprintf(e.Stdout, "  note: %s\n", a.Notice)
		}
	}
	fmt.Fprintf(e.Stdout, "total: %d new\n", snap.Total)
}

// MarkRead runs `mailsneaker mark-read [--account NAME]`: it checks, then
// promotes what is new into the seen set.
func MarkRead(ctx context.Context, e *Env, args []string) int {
	fs := e.newFlagSet("mark-read", "mark-read [--account NAME] [--on-server]")
	only := fs.String("account", "", "mark only this account's mail")
	onServer := fs.Bool("on-server", false, "also set \\Seen on the IMAP server (changes the mailbox)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return ExitUsage
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return e.fail(err)
	}
	m, err := e.manager(cfg, *only)
	if err != nil {
		return e.fail(err)
	}
	snap, n, err := m.MarkReadOnce(ctx, *only, *onServer)
	if err != nil && n == 0 {
		// Saving the seen set or flagging on the server failed: not
		// the user's arguments or config.
		return e.fail(runFailure{err})
	}
	for _, a := range snap.Accounts {
		if a.Err != nil {
			fmt.Fprintf(e.Stdout, "%s: error: %s\n", a.Name, a.Err)
		}
	}
	if n == 1 {
		fmt.Fprintln(e.Stdout, "marked 1 mail as read")
	} else {
		fmt.Fprintf(e.Stdout, "marked %d mails as read\n", n)
	}
	if err != nil {
		// Marked here, but the server part failed.
		fmt.Fprintln(e.Stderr, "mailsneaker:", err)
		return ExitFailed
	}
	if snap.Errors() > 0 {
		return ExitFailed
	}
	return ExitOK
}
