//go:build !unix

package testenv

import "testing"

// StartDovecotOAuth skips: Dovecot runs on Unix only.
func StartDovecotOAuth(t testing.TB, key []byte) *Dovecot { Missing(t, "Dovecot"); return nil }
