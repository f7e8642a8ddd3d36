//go:build (linux || freebsd || openbsd || netbsd) && !android

package tray

import (
	"context"
	"errors"
	"fmt"

	"mailsneaker/internal/sessionbus"
)

// watcherName is the bus name of the StatusNotifierWatcher, which every
// StatusNotifier tray host (KDE, Xfce, GNOME's AppIndicator extension)
// provides and fyne.io/systray registers its icon with.
const watcherName = "org.kde.StatusNotifierWatcher"

// HostAvailable reports whether a system tray host is running, so that the
// caller can tell the user when the icon would not appear. On Linux it asks
// the session bus whether org.kde.StatusNotifierWatcher has an owner. It
// never starts a bus: with DBUS_SESSION_BUS_ADDRESS unset and no bus socket
// at $XDG_RUNTIME_DIR/bus (where systray's D-Bus library looks too) it
// returns false and ErrNoSessionBus. It does I/O on the bus.
func HostAvailable(ctx context.Context) (bool, error) {
	conn, err := sessionbus.Connect(ctx)
	if errors.Is(err, sessionbus.ErrNoSessionBus) {
		return false, ErrNoSessionBus
	}
	if err != nil {
		return false, fmt.Errorf("tray: %w", err)
	}
	defer conn.Close()
	var has bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has)
	if err != nil {
		return false, fmt.Errorf("tray: ask the session bus for %s: %w", watcherName, err)
	}
	return has, nil
}
