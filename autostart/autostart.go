// Package autostart turns "Start at login" on and off: an XDG autostart entry
// on Linux and the BSDs, the HKCU Run key on Windows, a LaunchAgent on macOS.
// Of ours it imports only internal/safefile.
package autostart

import (
	"errors"
	"fmt"
	"os"
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

// Set makes the session start this very program at login, or stops it.
func Set(on bool) error {
	if !on {
		return Disable()
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	// os.Executable may name the symlink the program was started through.
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	return Enable(exe)
}
