//go:build unix

package testenv

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// TestMailutilsStartsAndAuthenticates logs in to both servers, reads a
// delivered mail's headers over POP3 and restarts the servers on their ports.
func TestMailutilsStartsAndAuthenticates(t *testing.T) {
	m := StartMailutils(t)
	user, pass := m.AddUser(t)
	m.Deliver(t, user, Message("Ann <ann@example.com>", "hello", "body"))
	talk := func(port int, cmds ...string) []string {
		t.Helper()
		c, err := tls.Dial("tcp", m.Addr(port), m.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		var got []string
		line := func() string {
			s, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", got, err)
			}
			got = append(got, strings.TrimRight(s, "\r\n"))
			return s
		}
		line() // greeting
		for _, cmd := range cmds {
			c.Write([]byte(cmd + "\r\n"))
			tag, _, _ := strings.Cut(cmd, " ")
			for {
				s := line()
				if strings.HasPrefix(s, "+OK") || strings.HasPrefix(s, "-ERR") || strings.HasPrefix(s, tag+" ") {
					break
				}
			}
		}
		return got
	}
	pop := talk(m.POP3S, "USER "+user, "PASS "+pass, "STAT")
	if last := pop[len(pop)-1]; !strings.HasPrefix(last, "+OK 1 ") {
		t.Fatalf("POP3 STAT: %q", pop)
	}
	imap := strings.Join(talk(m.IMAPS, "a LOGIN "+user+" "+pass, "b EXAMINE INBOX", "c FETCH 1 ENVELOPE"), "\n")
	if !strings.Contains(imap, `"hello"`) || !strings.Contains(imap, "c OK") {
		t.Fatalf("IMAP session:\n%s", imap)
	}
	m.Stop(t)
	m.Start(t)
	talk(m.IMAPS, "a LOGOUT")
}

// TestMailutilsPortTaken: a port held by another listener is a failed
// start to retry elsewhere, not a server that answers (imap4d keeps
// running on the ports it could bind).
func TestMailutilsPortTaken(t *testing.T) {
	m := StartMailutils(t)
	m.Stop(t)
	l, err := net.Listen("tcp", m.Addr(m.IMAPS))
	if err != nil {
		t.Skipf("cannot hold the port: %v", err)
	}
	defer l.Close()
	if err := m.start(); !errors.Is(err, errPortTaken) {
		t.Fatalf("start with IMAPS taken: %v, want errPortTaken", err)
	}
	l.Close()
	m.Start(t)
}
