//go:build unix

package privatebus_test

import (
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"

	"mailsneaker/internal/privatebus"
	"mailsneaker/internal/testenv"
)

// TestNoActivationStartsNothing: on a NoActivation bus, asking for a
// well-known service (one the session config would auto-start if it is
// installed) fails instead of starting it, and Stop ends the daemon.
func TestNoActivationStartsNothing(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "a D-Bus session bus", "dbus-daemon")
	b, err := privatebus.Start(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dbus.Connect(b.Addr)
	if err != nil {
		b.Stop()
		t.Fatal(err)
	}
	var names []string
	if err := c.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "org.freedesktop.DBus" {
		t.Errorf("activatable names %v, want only org.freedesktop.DBus", names)
	}
	err = c.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications").
		Call("org.freedesktop.DBus.Peer.Ping", 0).Err
	if err == nil || !strings.Contains(err.Error(), "ServiceUnknown") && !strings.Contains(err.Error(), "not provided") {
		t.Errorf("ping of an unowned name: %v, want ServiceUnknown", err)
	}
	c.Close()
	b.Stop()
	if c, err := dbus.Connect(b.Addr); err == nil {
		c.Close()
		t.Fatal("the bus still answers after Stop")
	}
}
