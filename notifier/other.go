//go:build !linux && !windows

package notifier

import (
	"context"
	"fmt"
	"runtime"

	"github.com/godbus/dbus/v5"
)

// This file is the no-op for systems other than Linux (D-Bus) and Windows
// (toasts), e.g. macOS.
// The tray's badge still shows the count.

// Start reports that there are no desktop notifications on this system.
func Start(ctx context.Context, o Options) (*Loop, error) {
	return nil, fmt.Errorf("desktop notifications are not implemented on %s", runtime.GOOS)
}

// Show does nothing on this system.
func Show(ctx context.Context, n Note) error { return nil }

// Notifier does nothing on this system.
type Notifier struct{}

// New returns a Notifier that shows nothing; conn may be nil.
func New(conn *dbus.Conn, onAction func(action string, n Note)) (*Notifier, error) {
	return &Notifier{}, nil
}

// Show does nothing on this system.
func (n *Notifier) Show(ctx context.Context, note Note) error { return nil }

// Withdraw does nothing on this system.
func (n *Notifier) Withdraw(ctx context.Context) error { return nil }

// Close does nothing on this system.
func (n *Notifier) Close() error { return nil }
