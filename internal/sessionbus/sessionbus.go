// Package sessionbus finds the user's D-Bus session bus: the one lookup the
// tray, the notifications and the keychain share, so that they never
// disagree about whether there is a bus.
//
// Unlike godbus's SessionBus it never starts a bus: dbus-launch would leave
// a stray daemon behind, outside the desktop session, that nothing shows.
package sessionbus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

// ErrNoSessionBus means there is no session bus to connect to: the
// program runs outside a desktop session.
var ErrNoSessionBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus)")

// Address returns the session bus address: $DBUS_SESSION_BUS_ADDRESS, or
// else the socket $XDG_RUNTIME_DIR/bus that systemd's user session provides
// (where godbus and libdbus look too). Without either it returns
// ErrNoSessionBus. It reads the environment and stats one file.
func Address() (string, error) {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" {
		return addr, nil
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		p := filepath.Join(dir, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode().Type() == os.ModeSocket {
			return "unix:path=" + p, nil
		}
	}
	return "", ErrNoSessionBus
}

// Connect opens a private connection to the session bus found by Address.
// It closes when ctx ends (godbus ties it to the context), or on Close.
func Connect(ctx context.Context) (*dbus.Conn, error) {
	addr, err := Address()
	if err != nil {
		return nil, err
	}
	c, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("connect to the session bus: %w", err)
	}
	return c, nil
}
