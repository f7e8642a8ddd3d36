package sessionbus

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// noBusEnv clears both places a bus address may come from.
func noBusEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	os.Unsetenv("DBUS_SESSION_BUS_ADDRESS")
	t.Setenv("XDG_RUNTIME_DIR", dir)
	return dir
}

func TestAddress(t *testing.T) {
	t.Run("env wins", func(t *testing.T) {
		dir := noBusEnv(t)
		listenUnix(t, filepath.Join(dir, "bus"))
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/elsewhere")
		if got, err := Address(); err != nil || got != "unix:path=/nonexistent/elsewhere" {
			t.Errorf("Address() = %q, %v", got, err)
		}
	})
	t.Run("runtime dir socket", func(t *testing.T) {
		dir := noBusEnv(t)
		p := filepath.Join(dir, "bus")
		listenUnix(t, p)
		if got, err := Address(); err != nil || got != "unix:path="+p {
			t.Errorf("Address() = %q, %v; want the $XDG_RUNTIME_DIR/bus socket", got, err)
		}
	})
	t.Run("not a socket", func(t *testing.T) {
		dir := noBusEnv(t)
		if err := os.WriteFile(filepath.Join(dir, "bus"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := Address(); !errors.Is(err, ErrNoSessionBus) {
			t.Errorf("Address() with a regular file as bus = %q, %v; want ErrNoSessionBus", got, err)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		noBusEnv(t)
		if got, err := Address(); !errors.Is(err, ErrNoSessionBus) {
			t.Errorf("Address() = %q, %v; want ErrNoSessionBus", got, err)
		}
		t.Setenv("XDG_RUNTIME_DIR", "")
		if got, err := Address(); !errors.Is(err, ErrNoSessionBus) {
			t.Errorf("Address() without XDG_RUNTIME_DIR = %q, %v; want ErrNoSessionBus", got, err)
		}
		// Connect must not fall back to godbus's autolaunch (dbus-launch).
		if c, err := Connect(context.Background()); !errors.Is(err, ErrNoSessionBus) {
			if c != nil {
				c.Close()
			}
			t.Errorf("Connect() = %v; want ErrNoSessionBus", err)
		}
	})
}

func listenUnix(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
}
