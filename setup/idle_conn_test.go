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
	conn, err := net.Dial("tcp", c.s.host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(connIdleTimeout + 20*time.Second))
	if _, err := io.WriteString(conn, "GET "+strings.TrimPrefix(c.base, c.origin)+"/ HTTP/1.1\r\nHost: "+c.s.host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
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
	conn, err := net.Dial("tcp", c.s.host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, "GET /oauth/callback HTTP/1.1\r\nHost: "+c.s.host+"\r\nContent-Length: 100000\r\n\r\nx"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection with a body that never comes: read = %v, want EOF from the server closing it", err)
	}
}
