// Package autostart turns "Start at login" on and off: an XDG autostart entry
// on Linux and the BSDs, the HKCU Run key on Windows, a LaunchAgent on macOS.
// Of ours it imports only internal/safefile.
package autostart

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// appName is the name the desktop shows for the entry.
const appName = "MailSneaker"

// checkExe rejects what cannot be started at login: a relative path would
// resolve against whatever directory the session starts in.
func checkExe(exe string) error {
	if !filepath.IsAbs(exe) {
		return fmt.Errorf("autostart: %q is not an absolute path", exe)
	}
	if strings.ContainsFunc(exe, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("autostart: the program's path contains control characters")
	}
	return nil
}
