//go:build unix

package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsneaker/internal/privatebus"
)

// SessionBus starts a private dbus-daemon for the test, points
// DBUS_SESSION_BUS_ADDRESS at it (t.Setenv) and returns its address. With
// activation false the bus auto-starts no service. A test that uses it
// cannot run in parallel; see PrivateBus.
func SessionBus(t testing.TB, activation bool) string {
	t.Helper()
	addr := PrivateBus(t, activation)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	return addr
}

// PrivateBus starts a private dbus-daemon for the test, stopped in
// t.Cleanup, and returns its address. Unlike SessionBus it leaves the
// process environment alone, so a test that passes the address to its
// child processes and connections can run in parallel (t.Parallel).
func PrivateBus(t testing.TB, activation bool) string {
	t.Helper()
	Need(t, "a D-Bus session bus", "dbus-daemon")
	b, err := privatebus.Start(t.TempDir(), activation)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b.Addr
}

// Connect opens a private connection to the bus at addr, closed in t.Cleanup.
func Connect(t testing.TB, addr string) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// WaitName waits until name has an owner on the bus.
func WaitName(t testing.TB, c *dbus.Conn, name string, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, func() bool {
		var has bool
		c.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has)
		return has
	}, "%s to appear on the bus", name)
}

// GnomeKeyring starts a real gnome-keyring-daemon (Secret Service) on the bus
// at addr, with a fresh login keyring created and unlocked in a temp home.
func GnomeKeyring(t testing.TB, addr string) {
	t.Helper()
	Need(t, "gnome-keyring (Secret Service)", "gnome-keyring-daemon")
	dir := t.TempDir()
	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "HOME="+dir,
		"XDG_DATA_HOME="+dir+"/data", "XDG_RUNTIME_DIR="+dir, "XDG_CONFIG_HOME="+dir+"/config")
	cmd.Stdin = strings.NewReader("test-keyring-pass")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gnome-keyring-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	WaitName(t, Connect(t, addr), "org.freedesktop.secrets", 10*time.Second)
}

// RuntimeDirBus starts a private bus and makes it reachable only as
// $XDG_RUNTIME_DIR/bus, the way a systemd user session offers it, with
// DBUS_SESSION_BUS_ADDRESS unset; it returns the bus's address. It sets the
// environment, so its test cannot run in parallel.
func RuntimeDirBus(t *testing.T) string {
	t.Helper()
	addr := SessionBus(t, false)
	path, ok := strings.CutPrefix(strings.Split(addr, ",")[0], "unix:path=")
	if !ok {
		t.Skipf("the private bus listens on %q, not on a path", addr)
	}
	dir := t.TempDir()
	if err := os.Symlink(path, filepath.Join(dir, "bus")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	os.Unsetenv("DBUS_SESSION_BUS_ADDRESS")
	return addr
}
