//go:build unix

package sessionbus

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

// runtimeDirBus starts a private bus and makes it reachable only as
// $XDG_RUNTIME_DIR/bus, the way a systemd user session offers it, with
// DBUS_SESSION_BUS_ADDRESS unset.
func runtimeDirBus(t *testing.T) {
	t.Helper()
	addr := testenv.SessionBus(t, false)
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
}

func TestConnectRuntimeDirBus(t *testing.T) {
	runtimeDirBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Connect(ctx)
	if err != nil {
		t.Fatalf("Connect via $XDG_RUNTIME_DIR/bus: %v", err)
	}
	defer c.Close()
	var id string
	if err := c.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetId", 0).Store(&id); err != nil || id == "" {
		t.Fatalf("GetId on the found bus: %q, %v", id, err)
	}
}
