//go:build unix && !darwin

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// entryName is the file name in an autostart directory.
const entryName = "mailsneaker.desktop"

// userEntry is $XDG_CONFIG_HOME/autostart/mailsneaker.desktop.
func userEntry() (string, error) {
	dir, err := os.UserConfigDir() // $XDG_CONFIG_HOME, else ~/.config
	if err != nil {
		return "", fmt.Errorf("autostart: %w", err)
	}
	return filepath.Join(dir, "autostart", entryName), nil
}

// systemEntry is the first mailsneaker.desktop in $XDG_CONFIG_DIRS'
// autostart directories (a distribution package may install one), or "".
func systemEntry() string {
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	for _, d := range filepath.SplitList(dirs) {
		if !filepath.IsAbs(d) {
			continue // the spec says relative entries are invalid
		}
		p := filepath.Join(d, "autostart", entryName)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Enabled reports whether the desktop session starts MailSneaker at login.
func Enabled() (bool, error) {
	p, err := userEntry()
	if err != nil {
		return false, err
	}
	b, err := readEntry(p)
	if errors.Is(err, fs.ErrNotExist) {
		// The user's entry overrides the system one; without it the system one counts.
		if p = systemEntry(); p == "" {
			return false, nil
		}
		b, err = readEntry(p)
	}
	if err != nil {
		return false, fmt.Errorf("autostart: %w", err)
	}
	return entryEnabled(string(b)), nil
}

// Enable makes the desktop session start exe (an absolute path) at login, by
// writing $XDG_CONFIG_HOME/autostart/mailsneaker.desktop.
func Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	p, err := userEntry()
	if err != nil {
		return err
	}
	if err := writeEntry(p, []byte(desktopEntry(exe))); err != nil {
		return fmt.Errorf("autostart: write %s: %w", p, err)
	}
	return nil
}

// Disable stops starting MailSneaker at login: it removes the user's entry,
// or, when a system-wide entry exists, overrides it with Hidden=true.
func Disable() error {
	p, err := userEntry()
	if err != nil {
		return err
	}
	if systemEntry() != "" {
		hidden := strings.Join([]string{"[Desktop Entry]", "Type=Application", "Name=" + appName, "Hidden=true", ""}, "\n")
		if err := writeEntry(p, []byte(hidden)); err != nil {
			return fmt.Errorf("autostart: write %s: %w", p, err)
		}
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}
