//go:build darwin

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// agentPath is ~/Library/LaunchAgents/org.mailsneaker.plist.
func agentPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", agentLabel+".plist"), nil
}

// Enabled reports whether launchd starts MailSneaker at login.
func Enabled() (bool, error) {
	p, err := agentPath()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("autostart: %w", err)
}

// Enable makes launchd start exe (an absolute path) at login, by writing
// ~/Library/LaunchAgents/org.mailsneaker.plist.
func Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	p, err := agentPath()
	if err != nil {
		return err
	}
	if err := writeEntry(p, []byte(launchAgent(exe))); err != nil {
		return fmt.Errorf("autostart: write %s: %w", p, err)
	}
	return nil
}

// Disable removes the LaunchAgent; the running app is not stopped.
func Disable() error {
	p, err := agentPath()
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}
