package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		kind error
		msg  string
	}{
		{"not found", keyring.ErrNotFound, ErrNoPassword,
			"no password stored for account \"work\": run `mailsneaker account add` again or set password_command"},
		{"no service", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown",
			Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, ErrNoSecretService,
			"no Secret Service is running: install/start gnome-keyring or KeePassXC, or use password_command"},
		{"no service, pointer", &dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}, ErrNoSecretService, "no Secret Service"},
		{"no bus", fmt.Errorf("wrapped: %w", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}), ErrNoSessionBus, "no D-Bus session bus"},
		{"no bus text", errors.New(`exec: "dbus-launch": executable file not found in $PATH`), ErrNoSessionBus, "no D-Bus session bus"},
		{"bus gone", &net.OpError{Op: "dial", Net: "unix", Err: os.ErrNotExist}, ErrNoSessionBus, "no D-Bus session bus"},
		{"locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrKeyringLocked,
			"the keyring is locked"},
		{"other", errors.New("something odd"), nil, `keychain get for account "work": something odd`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := classify("get", "work", tc.err)
			var ke *KeychainError
			if !errors.As(err, &ke) || ke.Kind != tc.kind {
				t.Fatalf("got %#v", err)
			}
			if !reflect.DeepEqual(ke.Err, tc.err) {
				t.Errorf("KeychainError.Err = %v, want the original error", ke.Err)
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(%v) false", tc.kind)
			}
			if reflect.TypeOf(tc.err).Comparable() && !errors.Is(err, tc.err) {
				t.Errorf("the original error is not wrapped")
			}
			if !strings.HasPrefix(err.Error(), tc.msg) {
				t.Errorf("message %q, want %q", err, tc.msg)
			}
			for _, other := range []error{ErrNoPassword, ErrNoSecretService, ErrNoSessionBus, ErrKeyringLocked, ErrKeychainTimeout} {
				if other != tc.kind && errors.Is(err, other) {
					t.Errorf("also matches %v", other)
				}
			}
		})
	}
	if classify("get", "x", nil) != nil {
		t.Error("nil error classified")
	}
}

func TestKeychainTimeout(t *testing.T) {
	kc := &Keychain{Timeout: 50 * time.Millisecond}
	block := make(chan struct{})
	defer close(block)
	err := kc.call(context.Background(), "get", "work", func() error { <-block; return nil })
	if !errors.Is(err, ErrKeychainTimeout) || !strings.Contains(err.Error(), "within 50ms") {
		t.Fatalf("got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := kc.call(ctx, "get", "work", func() error { <-block; return nil }); !errors.Is(err, context.Canceled) || errors.Is(err, ErrKeychainTimeout) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}
