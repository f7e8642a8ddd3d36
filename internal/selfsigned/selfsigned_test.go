package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"
)

// TestNewServesAndIsTrusted: a TLS client that trusts only Pool (or only
// PEM, as a ca_file would) completes a handshake with Server for every name
// the tests and the demo dial.
func TestNewServesAndIsTrusted(t *testing.T) {
	t.Parallel()
	c, err := New("selfsigned test", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fromPEM := x509.NewCertPool()
	if !fromPEM.AppendCertsFromPEM(c.PEM) {
		t.Fatal("PEM holds no certificate")
	}
	if _, err := tls.X509KeyPair(c.PEM, c.KeyPEM); err != nil {
		t.Fatalf("PEM and KeyPEM are not a pair: %v", err)
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		for _, pool := range []*x509.CertPool{c.Pool, fromPEM} {
			if err := handshake(t, c.Server, &tls.Config{RootCAs: pool, ServerName: name}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// TestNewHonoursValidity: an expired certificate is refused as expired, so
// the tests that want one get one.
func TestNewHonoursValidity(t *testing.T) {
	t.Parallel()
	c, err := New("expired", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	err = handshake(t, c.Server, &tls.Config{RootCAs: c.Pool, ServerName: "127.0.0.1"})
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Fatalf("handshake error %v, want an expired certificate", err)
	}
	d, err := New("other", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d.X509.SerialNumber.Cmp(c.X509.SerialNumber) == 0 {
		t.Fatal("two certificates share a serial number")
	}
}

// handshake runs one TLS handshake over loopback TCP (not net.Pipe: its
// unbuffered writes deadlock when the client refuses mid-flight).
func handshake(t *testing.T, server, client *tls.Config) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.(*tls.Conn).Handshake()
		c.Close()
	}()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), client)
	if err != nil {
		return err
	}
	return c.Close()
}
