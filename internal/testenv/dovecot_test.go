//go:build unix

package testenv

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestDovecotStartsAndAuthenticates(t *testing.T) {
	d := StartDovecot(t)
	user, pass := d.AddUser(t)
	d.Deliver(t, user, Message("Ann <ann@example.com>", "hello", "body"))
	c, err := tls.Dial("tcp", d.Addr(d.POP3S), d.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 512)
	read := func() string {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	if g := read(); !strings.HasPrefix(g, "+OK") {
		t.Fatalf("greeting %q", g)
	}
	for _, cmd := range []string{"USER " + user, "PASS " + pass, "STAT"} {
		c.Write([]byte(cmd + "\r\n"))
		if r := read(); !strings.HasPrefix(r, "+OK") {
			t.Fatalf("%s: %q", strings.Fields(cmd)[0], r)
		}
	}
	d.Stop(t)
	d.Start(t)
}

func TestSessionBusAndKeyring(t *testing.T) {
	addr := SessionBus(t, false)
	GnomeKeyring(t, addr)
}

// impostor listens on 127.0.0.1 and greets every connection with greeting,
// over TLS with its own certificate when cfg is not nil. It returns its port.
func impostor(t *testing.T, cfg *tls.Config, greeting string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		l = tls.NewListener(l, cfg)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write([]byte(greeting + "\r\n"))
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestDovecotProbeKnowsItsOwnServer: a port where another server answers
// — one that even calls itself Dovecot, or serves TLS with another
// certificate — is reported as taken, not as our Dovecot being ready.
func TestDovecotProbeKnowsItsOwnServer(t *testing.T) {
	t.Parallel()
	other := SelfSigned(t, time.Time{}, time.Time{})
	ours := SelfSigned(t, time.Time{}, time.Time{})
	d := &Dovecot{Server: Server{RootCAs: ours.Pool}, greeting: "mailsneaker-test-abc"}
	for _, c := range []struct {
		name        string
		port        int
		implicitTLS bool
		wantTaken   bool
	}{
		{"another Dovecot", impostor(t, nil, "* OK [CAPABILITY IMAP4rev1] Dovecot ready."), false, true},
		{"another TLS server", impostor(t, other.Server, "+OK mailsneaker-test-abc"), true, true},
		{"plain text on a TLS port", impostor(t, nil, "+OK mailsneaker-test-abc"), true, true},
		{"ours", impostor(t, nil, "* OK [CAPABILITY IMAP4rev1] mailsneaker-test-abc"), false, false},
		{"ours over TLS", impostor(t, ours.Server, "+OK mailsneaker-test-abc"), true, false},
	} {
		err := d.probe(c.port, c.implicitTLS)
		if taken := errors.Is(err, errPortTaken); taken != c.wantTaken || !c.wantTaken && err != nil {
			t.Errorf("%s: probe = %v, want taken %v", c.name, err, c.wantTaken)
		}
	}
}

// TestDovecotRetriesOnATakenPort: when a picked port is taken by the time
// Dovecot binds it, the start-up picks other ports and the server that
// comes up is ours.
func TestDovecotRetriesOnATakenPort(t *testing.T) {
	t.Parallel()
	for i, name := range []string{"IMAP", "IMAPS", "POP3", "POP3S"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			taken := impostor(t, nil, "* OK impostor")
			picks := 0
			d := startDovecot(t, func(t testing.TB, n int) []int {
				picks++
				ports := freePorts(t, n)
				if picks == 1 {
					ports[i] = taken
				}
				return ports
			})
			if picks < 2 {
				t.Fatalf("picked ports %d times, want a second pick after the taken one", picks)
			}
			for _, p := range []int{d.IMAP, d.IMAPS, d.POP3, d.POP3S} {
				if p == taken {
					t.Fatalf("dovecot runs with the taken port %d", taken)
				}
			}
			if err := d.probe(d.POP3S, true); err != nil {
				t.Fatalf("the server on POP3S is not ours: %v", err)
			}
		})
	}
}
