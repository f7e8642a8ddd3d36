//go:build !unix

package testenv

import (
	"testing"
)

// Mailutils is a throwaway GNU Mailutils; the tests that need one run on Linux.
type Mailutils struct{ Server }

// StartMailutils skips: GNU Mailutils runs on unix only.
func StartMailutils(t testing.TB) *Mailutils { Missing(t, "GNU Mailutils"); return nil }

// Start is a stub.
func (m *Mailutils) Start(t testing.TB) {}

// Stop is a stub.
func (m *Mailutils) Stop(t testing.TB) {}

// AddUser is a stub.
func (m *Mailutils) AddUser(t testing.TB) (string, string) { return "", "" }

// Maildir is a stub.
func (m *Mailutils) Maildir(user, folder string) string { return "" }

// AddFolder is a stub.
func (m *Mailutils) AddFolder(t testing.TB, user, folder string) {}

// Deliver is a stub.
func (m *Mailutils) Deliver(t testing.TB, user string, msg []byte) {}

// DeliverTo is a stub.
func (m *Mailutils) DeliverTo(t testing.TB, user, folder string, msg []byte) {}

// SetUIDValidity is a stub.
func (m *Mailutils) SetUIDValidity(t testing.TB, user, folder string, v uint32) {}

// WaitSessions is a stub.
func (m *Mailutils) WaitSessions(t testing.TB) {}
