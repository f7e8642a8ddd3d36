//go:build !unix

package testenv

import (
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Dovecot is a throwaway Dovecot; the tests that need one run on Linux.
type Dovecot struct{ Server }

// StartDovecot skips: Dovecot runs on unix only.
func StartDovecot(t testing.TB) *Dovecot { Missing(t, "Dovecot"); return nil }

// Start is a stub.
func (d *Dovecot) Start(t testing.TB) {}

// Stop is a stub.
func (d *Dovecot) Stop(t testing.TB) {}

// AddUser is a stub.
func (d *Dovecot) AddUser(t testing.TB) (string, string) { return "", "" }

// Maildir is a stub.
func (d *Dovecot) Maildir(user string) string { return "" }

// Deliver is a stub.
func (d *Dovecot) Deliver(t testing.TB, user string, msg []byte) {}

// Doveadm is a stub.
func (d *Dovecot) Doveadm(t testing.TB, args ...string) string { return "" }

// IMAPSessions is a stub.
func (d *Dovecot) IMAPSessions(t testing.TB, user string) []string { return nil }

// Message is a stub.
func Message(from, subject, body string) []byte { return nil }

// SessionBus skips: the tests' private buses run on unix only.
func SessionBus(t testing.TB, activation bool) string { Missing(t, "a D-Bus session bus"); return "" }

// PrivateBus skips: the tests' private buses run on unix only.
func PrivateBus(t testing.TB, activation bool) string { Missing(t, "a D-Bus session bus"); return "" }

// Connect is a stub.
func Connect(t testing.TB, addr string) *dbus.Conn { return nil }

// WaitName is a stub.
func WaitName(t testing.TB, c *dbus.Conn, name string, timeout time.Duration) {}

// GnomeKeyring skips: Secret Service runs on Linux only.
func GnomeKeyring(t testing.TB, addr string) { Missing(t, "gnome-keyring") }
