package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"mailsneaker/internal/sessionbus"
)

// Kinds of keychain failure; a *KeychainError wraps one of them, so test
// with errors.Is.
var (
	ErrNoPassword      = errors.New("no password stored in the keychain: run `mailsneaker account add` again or set password_command")
	ErrNoSecretService = errors.New("no Secret Service is running: install/start gnome-keyring or KeePassXC, or use password_command")
	ErrNoSessionBus    = sessionbus.ErrNoSessionBus // the Secret Service needs one; the tray and notifications look for it the same way
	ErrKeyringLocked   = errors.New("the keyring is locked: unlock it (log in to the desktop, or open it in Seahorse/KeePassXC), or use password_command")
	ErrKeychainTimeout = errors.New("the keychain did not answer in time (it may be locked and waiting for an unlock prompt): unlock it, or use password_command")
)

// Keychain stores account passwords in the OS keychain (Secret Service on
// Linux, Keychain on macOS, Credential Manager on Windows). The zero value
// (and a nil *Keychain) uses service "mailsneaker" and a 5s timeout.
type Keychain struct {
	Service string        // keyring service; default "mailsneaker"
	Timeout time.Duration // per call; default 5s
}

// KeychainError is a failed keychain call, in words a user can act on.
type KeychainError struct {
	Op      string        // "get", "set" or "delete"
	Account string        // the keychain user: the account name
	Kind    error         // ErrNoPassword, ErrNoSecretService, ... or nil if unknown
	Err     error         // what go-keyring said, if anything
	Timeout time.Duration // for ErrKeychainTimeout
}

// Error says what went wrong and what to do about it.
func (e *KeychainError) Error() string {
	switch e.Kind {
	case ErrNoPassword:
		return fmt.Sprintf("no password stored for account %q: run `mailsneaker account add` again or set password_command", e.Account)
	case ErrNoSessionBus:
		return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset or unreachable), so no keychain: start MailSneaker inside your desktop session, or use password_command"
	case ErrNoSecretService, ErrKeyringLocked:
		return e.Kind.Error()
	case ErrKeychainTimeout:
		return fmt.Sprintf("the keychain did not answer within %s (it may be locked and waiting for an unlock prompt): unlock it, or use password_command", e.Timeout)
	}
	return fmt.Sprintf("keychain %s for account %q: %v", e.Op, e.Account, e.Err)
}

// Unwrap gives both the kind and go-keyring's error to errors.Is/As.
func (e *KeychainError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (k *Keychain) service() string {
	if k == nil || k.Service == "" {
		return "mailsneaker"
	}
	return k.Service
}

func (k *Keychain) timeout() time.Duration {
	if k == nil || k.Timeout <= 0 {
		return 5 * time.Second
	}
	return k.Timeout
}

// Get returns the password of account user.
func (k *Keychain) Get(ctx context.Context, user string) (string, error) {
	var pw string
	err := k.secretCall(ctx, "get", user, func() (err error) {
		pw, err = keyring.Get(k.service(), user)
		return err
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}

// Set stores the password of account user, replacing any old one.
func (k *Keychain) Set(ctx context.Context, user, password string) error {
	return k.secretCall(ctx, "set", user, func() error { return keyring.Set(k.service(), user, password) })
}

// Delete removes the password of account user; it is ErrNoPassword if there
// is none.
func (k *Keychain) Delete(ctx context.Context, user string) error {
	return k.secretCall(ctx, "delete", user, func() error { return keyring.Delete(k.service(), user) })
}

// secretCall calls f, one go-keyring call, after checking that there is a
// session bus to find the Secret Service on: without one go-keyring's godbus
// would run dbus-launch and talk to a fresh, empty bus outside the desktop
// session.
func (k *Keychain) secretCall(ctx context.Context, op, user string, f func() error) error {
	if secretService {
		if _, err := sessionbus.Address(); err != nil {
			return &KeychainError{Op: op, Account: user, Kind: ErrNoSessionBus, Err: err}
		}
	}
	return k.call(ctx, op, user, f)
}

// secretService: go-keyring uses the Secret Service on the session bus
// (everywhere but macOS and Windows).
const secretService = runtime.GOOS != "darwin" && runtime.GOOS != "windows"

// call runs f in its own goroutine and gives up at the timeout or when ctx
// ends: a locked keyring with a prompt can block go-keyring forever. The
// goroutine is then left behind; it ends when the keyring answers.
func (k *Keychain) call(ctx context.Context, op, user string, f func() error) error {
	timeout := k.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return classify(op, user, err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &KeychainError{Op: op, Account: user, Kind: ErrKeychainTimeout, Err: ctx.Err(), Timeout: timeout}
		}
		return &KeychainError{Op: op, Account: user, Err: ctx.Err()}
	}
}

// classify turns a go-keyring error into a *KeychainError of a known kind
// where it can tell.
func classify(op, user string, err error) error {
	if err == nil {
		return nil
	}
	e := &KeychainError{Op: op, Account: user, Err: err}
	var derr dbus.Error
	var pderr *dbus.Error
	var operr *net.OpError
	var execErr *exec.Error
	msg := err.Error()
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		e.Kind = ErrNoPassword
	case errors.As(err, &derr) && derr.Name == "org.freedesktop.DBus.Error.ServiceUnknown",
		errors.As(err, &pderr) && pderr.Name == "org.freedesktop.DBus.Error.ServiceUnknown":
		e.Kind = ErrNoSecretService
	case errors.As(err, &execErr), errors.As(err, &operr),
		strings.Contains(msg, "dbus-launch"),
		strings.Contains(msg, "couldn't determine address of session bus"),
		strings.Contains(msg, "invalid bus address"):
		e.Kind = ErrNoSessionBus
	case strings.Contains(msg, "failed to unlock correct collection"):
		e.Kind = ErrKeyringLocked
	}
	return e
}
