package setup

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIdleConnectionClosed: any local user can connect to the page's port.
// A connection left idle after a request of the session's pages is closed
// by the server within its idle timeout; before, it was held for as long
// as the page ran, so connections (file descriptors of the tray) could
// pile up.
func TestIdleConnectionClosed(t *testing.T) {
	c, _, _ := newServer(t, Options{})
	resp, br := rawRequest(t, c.s.host, connIdleTimeout+20*time.Second,
		"GET "+strings.TrimPrefix(c.base, c.origin)+"/ HTTP/1.1\r\nHost: "+c.s.host+"\r\n\r\n")
	if resp.Close {
		t.Fatal("the server closed at once; the test needs a kept-alive connection")
	}
	// Idle now: the server must close it (EOF), not our deadline.
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read = %v, want EOF from the server closing it", err)
	}
}

// TestDrippedBodyConnectionClosed: a request whose body never comes (any
// local user can send one to the callback) does not hold its connection:
// before, the server waited for the body to drain it.
func TestDrippedBodyConnectionClosed(t *testing.T) {
	c, _, _ := newServer(t, Options{})
	_, br := rawRequest(t, c.s.host, 20*time.Second,
		"GET /oauth/callback HTTP/1.1\r\nHost: "+c.s.host+"\r\nContent-Length: 100000\r\n\r\nx")
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection with a body that never comes: read = %v, want EOF from the server closing it", err)
	}
}

// rawRequest sends req as it is on a new connection to host, whose every
// read and write has to be done within timeout, reads the answer (its
// body too) and returns it with the connection's reader, for what the
// server does next. The connection is closed when the test ends.
func rawRequest(t *testing.T, host string, timeout time.Duration, req string) (*http.Response, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, br
}
