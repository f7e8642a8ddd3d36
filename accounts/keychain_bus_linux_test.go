package accounts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Without a session bus the keychain says so and starts none: godbus would
// run dbus-launch and store the password on a stray, empty bus. A fake
// dbus-launch on PATH tells whether anything tried.
func TestKeychainNeverLaunchesABus(t *testing.T) {
	if os.Getenv(keychainChild) == "nolaunch" {
		_, err := (&Keychain{}).Get(context.Background(), "work")
		if !errors.Is(err, ErrNoSessionBus) {
			t.Fatalf("want ErrNoSessionBus, got %v", err)
		}
		t.Log(err)
		return
	}
	bin, marker := t.TempDir(), filepath.Join(t.TempDir(), "launched")
	script := "#!/bin/sh\necho launched > '" + marker + "'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	os.Unsetenv("DBUS_SESSION_BUS_ADDRESS")
	runChild(t, "nolaunch")
	if _, err := os.Stat(marker); err == nil {
		t.Error("the keychain ran dbus-launch")
	}
}
