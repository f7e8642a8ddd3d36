package accounts

// Secret Service tests: a private D-Bus and a real gnome-keyring-daemon.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/godbus/dbus/v5"

	"mailsneaker/internal/testenv"
)

// keychainChild names the scenario a re-exec'd test binary runs. go-keyring
// keeps a process-wide D-Bus connection, so every bus gets a fresh process.
const keychainChild = "MAILSNEAKER_KEYCHAIN_CHILD"

// runChild re-runs this test in a child process with the current
// environment (and so the private bus) plus the scenario name.
func runChild(t *testing.T, scenario string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), keychainChild+"="+scenario)
	out, err := cmd.CombinedOutput()
	t.Logf("child %s:\n%s", scenario, out)
	if err != nil {
		t.Fatalf("child %s: %v", scenario, err)
	}
}

func TestKeychainGnomeKeyring(t *testing.T) {
	if os.Getenv(keychainChild) == "real" {
		ctx := context.Background()
		kc := &Keychain{Service: "mailsneaker-test"}
		if _, err := kc.Get(ctx, "work"); !errors.Is(err, ErrNoPassword) {
			t.Fatalf("Get before Set: want ErrNoPassword, got %v", err)
		}
		if err := kc.Set(ctx, "work", "pw-1"); err != nil {
			t.Fatal(err)
		}
		if err := kc.Set(ctx, "work", "pw-2"); err != nil {
			t.Fatal(err)
		}
		if pw, err := Password(ctx, Account{Name: "work"}, kc); err != nil || pw != "pw-2" {
			t.Fatalf("Password = %q, %v", pw, err)
		}
		if err := kc.Delete(ctx, "work"); err != nil {
			t.Fatal(err)
		}
		if _, err := kc.Get(ctx, "work"); !errors.Is(err, ErrNoPassword) {
			t.Fatalf("Get after Delete: want ErrNoPassword, got %v", err)
		}
		if err := kc.Delete(ctx, "work"); !errors.Is(err, ErrNoPassword) {
			t.Fatalf("Delete twice: want ErrNoPassword, got %v", err)
		}
		return
	}
	addr := testenv.SessionBus(t, false)
	testenv.GnomeKeyring(t, addr)
	runChild(t, "real")
}

func TestKeychainNoSecretService(t *testing.T) {
	if os.Getenv(keychainChild) == "none" {
		_, err := (&Keychain{}).Get(context.Background(), "work")
		var derr dbus.Error
		if !errors.Is(err, ErrNoSecretService) || !errors.As(err, &derr) {
			t.Fatalf("want ErrNoSecretService wrapping a dbus.Error, got %v", err)
		}
		t.Logf("%v (dbus: %s)", err, derr.Name)
		return
	}
	testenv.SessionBus(t, false)
	runChild(t, "none")
}

func TestKeychainNoSessionBus(t *testing.T) {
	if os.Getenv(keychainChild) == "nobus" {
		_, err := (&Keychain{}).Get(context.Background(), "work")
		if !errors.Is(err, ErrNoSessionBus) {
			t.Fatalf("want ErrNoSessionBus, got %v", err)
		}
		t.Log(err)
		return
	}
	// godbus also tries $XDG_RUNTIME_DIR/bus before giving up.
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	os.Unsetenv("DBUS_SESSION_BUS_ADDRESS")
	runChild(t, "nobus")
}
