// Package launch opens things outside MailSneaker for the user: a page or a
// local file in the default browser, or an account's open_command. It is the
// only importer of github.com/cli/browser.
package launch

import (
	"context"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"

	"github.com/cli/browser"

	"mailsneaker/accounts"
)

// URL opens url in the default browser. It waits for the opener (xdg-open,
// open, ShellExecute) to return, not for the browser. url is in the opener's
// argv, which every local user can read: it must hold no secret.
func URL(url string) error { return browser.OpenURL(url) }

// File opens the local file path in the default browser, as URL does.
func File(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return browser.OpenURL(fileTarget(runtime.GOOS, abs))
}

// fileTarget is what the opener on goos is given for the absolute path:
// Windows' ShellExecute opens a plain path with the program for its type
// (the browser, for .html), which is surer than a file: URL built from a
// path with a drive letter; xdg-open and open take a file:// URL.
func fileTarget(goos, abs string) string {
	if goos == "windows" {
		return abs
	}
	return (&url.URL{Scheme: "file", Path: abs}).String()
}

// Account opens the mail of the account name: its url in the browser if it
// has one, else its open_command, run through the shell
// (accounts.ShellCommand) and not waited for. Both come from the config
// file, never from a mail. Failures are logged: a click in the tray or on a
// notification has nobody to return them to.
func Account(log *slog.Logger, name, pageURL, openCmd string) {
	switch {
	case pageURL != "":
		if err := URL(pageURL); err != nil {
			log.Warn("cannot open the account's url", "account", name, "err", err)
		}
	case openCmd != "":
		// The mail client outlives the click and may outlive the tray.
		cmd := accounts.ShellCommand(context.Background(), openCmd)
		if err := cmd.Start(); err != nil {
			log.Warn("cannot run open_command", "account", name, "err", err)
			return
		}
		go cmd.Wait()
	}
}
