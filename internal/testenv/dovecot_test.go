//go:build unix

package testenv

import (
	"crypto/tls"
	"strings"
	"testing"
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
