// Package launch opens things outside MailSneaker for the user: a page or a
// local file in the default browser, or one mail by its account's
// open_command or open_with. It is the one place that starts programs for
// the user, and the only importer of github.com/cli/browser.
package launch

import (
	"net/url"
	"path/filepath"
	"runtime"

	"github.com/cli/browser"
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
