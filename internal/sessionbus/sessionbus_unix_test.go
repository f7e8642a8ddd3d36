//go:build unix

package sessionbus

import (
	"context"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

func TestConnectRuntimeDirBus(t *testing.T) {
	testenv.RuntimeDirBus(t)
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
