package accounts

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

const appDir = "mailsneaker"

// DefaultConfigPath is config.toml in the user config dir
// ($XDG_CONFIG_HOME/mailsneaker on Linux). It does not check that it exists.
func DefaultConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, appDir, "config.toml"), nil
}

// StateDir is where MailSneaker keeps its state (seen messages): on Linux
// $XDG_STATE_HOME/mailsneaker or ~/.local/state/mailsneaker, on macOS
// ~/Library/Application Support/mailsneaker, on Windows
// %LocalAppData%\mailsneaker. It does not create it.
func StateDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		dir := os.Getenv("LocalAppData")
		if dir == "" {
			return "", errors.New("%LocalAppData% is not set")
		}
		return filepath.Join(dir, appDir), nil
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", appDir), nil
	}
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, appDir), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state", appDir), nil
}
