//go:build windows

package autostart

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

const (
	runKey = `Software\Microsoft\Windows\CurrentVersion\Run`
	// approvedKey is where Task Manager's Startup tab records that the user
	// switched an entry off (first byte odd) without deleting it.
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
	valueName   = appName
)

// Enabled reports whether Windows starts MailSneaker at login: the Run value
// exists and Task Manager has not switched it off.
func Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("autostart: open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(valueName); errors.Is(err, registry.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("autostart: read HKCU\\%s\\%s: %w", runKey, valueName, err)
	}
	a, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.QUERY_VALUE)
	if err != nil {
		return true, nil // no record: enabled
	}
	defer a.Close()
	if b, _, err := a.GetBinaryValue(valueName); err == nil && len(b) > 0 && b[0]&1 == 1 {
		return false, nil
	}
	return true, nil
}

// Enable makes Windows start exe (an absolute path) at login, by setting the
// HKCU Run value, and clears a Task Manager "disabled" mark.
func Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("autostart: open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	// Quoted, or a path with spaces runs the wrong program.
	if err := k.SetStringValue(valueName, `"`+exe+`"`); err != nil {
		return fmt.Errorf("autostart: write HKCU\\%s\\%s: %w", runKey, valueName, err)
	}
	return deleteValue(approvedKey)
}

// Disable removes the Run value (and any Task Manager mark).
func Disable() error {
	if err := deleteValue(runKey); err != nil {
		return err
	}
	return deleteValue(approvedKey)
}

// deleteValue removes our value under HKCU\key; a missing one is fine.
func deleteValue(key string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, key, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("autostart: open HKCU\\%s: %w", key, err)
	}
	defer k.Close()
	if err := k.DeleteValue(valueName); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("autostart: delete HKCU\\%s\\%s: %w", key, valueName, err)
	}
	return nil
}
