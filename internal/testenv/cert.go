package testenv

import (
	"testing"
	"time"

	"mailsneaker/internal/selfsigned"
)

// Cert is a self-signed certificate for 127.0.0.1, ::1 and localhost.
type Cert = selfsigned.Cert

// SelfSigned makes a certificate valid from notBefore to notAfter; zero
// times mean from an hour ago to an hour ahead. An expired one is
// SelfSigned(t, now-48h, now-24h).
func SelfSigned(t testing.TB, notBefore, notAfter time.Time) *Cert {
	t.Helper()
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = time.Now().Add(time.Hour)
	}
	c, err := selfsigned.New("mailsneaker test", notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
