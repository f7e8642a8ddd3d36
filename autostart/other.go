//go:build !unix && !windows

package autostart

import (
	"fmt"
	"runtime"
)

// Enabled reports false: this system has no start-at-login mechanism here.
func Enabled() (bool, error) { return false, nil }

// Enable reports that starting at login is not supported on this system.
func Enable(exe string) error {
	return fmt.Errorf("autostart: not supported on %s", runtime.GOOS)
}

// Disable does nothing on this system.
func Disable() error { return nil }
