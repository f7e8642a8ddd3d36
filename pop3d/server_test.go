package pop3d

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

// client is a line-level POP3 client for the tests.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	cl := &client{t: t, c: c, r: bufio.NewReader(c)}
	cl.expect("+OK")
	return cl
}

func (cl *client) line() string {
	cl.t.Helper()
	l, err := cl.r.ReadString('\n')
	if err != nil {
		cl.t.Fatalf("read: %v", err)
	}
	if !strings.HasSuffix(l, "\r\n") {
		cl.t.Fatalf("line %q does not end in CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (cl *client) expect(prefix string) string {
	cl.t.Helper()
	l := cl.line()
	if !strings.HasPrefix(l, prefix) {
		cl.t.Fatalf("got %q, want %q...", l, prefix)
	}
	return l
}

// cmd sends a command and returns the first line of the reply.
func (cl *client) cmd(s string) string {
	cl.t.Helper()
	if _, err := cl.c.Write([]byte(s + "\r\n")); err != nil {
		cl.t.Fatal(err)
	}
	return cl.line()
}

// multi reads the lines of a multi-line reply up to ".", as sent (stuffed).
func (cl *client) multi() []string {
	cl.t.Helper()
	var out []string
	for {
		l := cl.line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

func start(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

const msg1 = "From: Ann <ann@example.com>\nSubject: one\n\nline 1\n.dot line\nline 3\n"

func TestSession(t *testing.T) {
	var mu sync.Mutex
	var verbs []string
	s := &Server{OnCommand: func(user, verb string) {
		mu.Lock()
		verbs = append(verbs, user+":"+verb)
		mu.Unlock()
	}}
	s.AddUser("alice", "secret")
	u1 := s.Deliver("alice", []byte(msg1))
	u2 := s.Deliver("alice", []byte("Subject: two\r\n\r\nbody\r\n"))
	if u1 == "" || u2 == "" || u1 == u2 {
		t.Fatalf("uidls %q %q", u1, u2)
	}
	if s.Deliver("nobody", []byte("x")) != "" {
		t.Fatal("Deliver to an unknown user returned a uidl")
	}
	c := dial(t, start(t, s))

	if got := c.cmd("CAPA"); got != "+OK capability list follows" {
		t.Fatal(got)
	}
	caps := strings.Join(c.multi(), ",")
	if !strings.Contains(caps, "UIDL") || !strings.Contains(caps, "TOP") || strings.Contains(caps, "STLS") {
		t.Errorf("CAPA %s", caps)
	}
	if got := c.cmd("STAT"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("STAT before login: %q", got)
	}
	c.cmd("USER alice")
	if got := c.cmd("PASS wrong"); !strings.HasPrefix(got, "-ERR [AUTH]") {
		t.Errorf("wrong PASS: %q", got)
	}
	if got := c.cmd("PASS secret"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("PASS without USER: %q", got)
	}
	c.cmd("USER alice")
	if got := c.cmd("PASS secret"); got != "+OK 2 messages" {
		t.Fatalf("PASS: %q", got)
	}
	// Mail delivered during a session shows in the next one only.
	s.Deliver("alice", []byte("Subject: three\n\nlate\n"))

	size1 := len(strings.ReplaceAll(msg1, "\n", "\r\n"))
	if got, want := c.cmd("STAT"), "+OK 2 "; !strings.HasPrefix(got, want) {
		t.Errorf("STAT %q", got)
	}
	c.cmd("LIST")
	if got := c.multi(); len(got) != 2 || got[0] != "1 "+strconv.Itoa(size1) {
		t.Errorf("LIST %q", got)
	}
	if got := c.cmd("UIDL 2"); got != "+OK 2 "+u2 {
		t.Errorf("UIDL 2: %q", got)
	}
	c.cmd("UIDL")
	if got := c.multi(); strings.Join(got, ",") != "1 "+u1+",2 "+u2 {
		t.Errorf("UIDL %q", got)
	}
	if got := c.cmd("TOP 1 0"); got != "+OK" {
		t.Fatal(got)
	}
	if got := strings.Join(c.multi(), "|"); got != "From: Ann <ann@example.com>|Subject: one|" {
		t.Errorf("TOP 1 0: %q", got)
	}
	c.cmd("TOP 1 2")
	if got := strings.Join(c.multi(), "|"); got != "From: Ann <ann@example.com>|Subject: one||line 1|..dot line" {
		t.Errorf("TOP 1 2: %q", got)
	}
	c.cmd("RETR 1")
	if got := strings.Join(c.multi(), "|"); got != "From: Ann <ann@example.com>|Subject: one||line 1|..dot line|line 3" {
		t.Errorf("RETR 1: %q", got)
	}
	for _, bad := range []string{"TOP 3 0", "TOP 0 0", "TOP x 0", "TOP 1", "RETR", "LIST 9", "FROB"} {
		if got := c.cmd(bad); !strings.HasPrefix(got, "-ERR") {
			t.Errorf("%s: %q", bad, got)
		}
	}
	c.cmd("DELE 1")
	if got := c.cmd("TOP 1 0"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("TOP of a deleted message: %q", got)
	}
	c.cmd("RSET")
	c.cmd("DELE 2")
	if got := c.cmd("QUIT"); got != "+OK bye" {
		t.Errorf("QUIT %q", got)
	}
	if got := s.UIDLs("alice"); len(got) != 2 || got[0] != u1 {
		t.Errorf("after DELE 2 and QUIT: %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	joined := strings.Join(verbs, " ")
	if !strings.HasPrefix(joined, ":CAPA :STAT :USER :PASS :PASS :USER :PASS alice:STAT") || strings.Contains(joined, "secret") {
		t.Errorf("OnCommand saw %s", joined)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	c := testenv.SelfSigned(t, time.Time{}, time.Time{})
	return c.Server, c.Pool
}

func TestSTLS(t *testing.T) {
	cfg, pool := selfSigned(t)
	s := &Server{TLSConfig: cfg}
	s.AddUser("bob", "pw")
	s.Deliver("bob", []byte("Subject: hi\n\nx\n"))
	c := dial(t, start(t, s))
	c.cmd("CAPA")
	if caps := strings.Join(c.multi(), ","); !strings.Contains(caps, "STLS") {
		t.Fatalf("CAPA without STLS: %s", caps)
	}
	if got := c.cmd("STLS"); !strings.HasPrefix(got, "+OK") {
		t.Fatal(got)
	}
	tc := tls.Client(c.c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
	c.cmd("CAPA")
	if caps := strings.Join(c.multi(), ","); strings.Contains(caps, "STLS") {
		t.Errorf("CAPA after STLS still offers STLS: %s", caps)
	}
	if got := c.cmd("STLS"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("second STLS: %q", got)
	}
	c.cmd("USER bob")
	if got := c.cmd("PASS pw"); got != "+OK 1 messages" {
		t.Fatal(got)
	}
}

func TestImplicitTLS(t *testing.T) {
	cfg, pool := selfSigned(t)
	s := &Server{}
	s.AddUser("bob", "pw")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(tls.NewListener(ln, cfg)) }()
	defer func() { s.Close(); <-done }()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("greeting %q", l)
	}
	c.Write([]byte("CAPA\r\n"))
	var caps []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == ".\r\n" {
			break
		}
		caps = append(caps, l)
	}
	if strings.Contains(strings.Join(caps, ""), "STLS") {
		t.Errorf("STLS offered on an implicit TLS connection: %q", caps)
	}
}

func TestLimitsAndTimeouts(t *testing.T) {
	s := &Server{Timeout: 200 * time.Millisecond}
	s.AddUser("a", "b")
	addr := start(t, s)

	t.Run("long line", func(t *testing.T) {
		c := dial(t, addr)
		if got := c.cmd(strings.Repeat("x", 10*MaxLine)); got != "-ERR line too long" {
			t.Errorf("got %q", got)
		}
		if _, err := c.r.ReadByte(); err == nil {
			t.Error("connection still open after a long line")
		}
	})
	t.Run("idle client", func(t *testing.T) {
		c := dial(t, addr)
		// The server's deadline closes the connection; the client's (10 s) must not fire first.
		if _, err := c.r.ReadByte(); err == nil || isTimeout(err) {
			t.Errorf("read: %v, want EOF", err)
		}
	})
	t.Run("three wrong passwords", func(t *testing.T) {
		c := dial(t, addr)
		for range 3 {
			c.cmd("USER a")
			c.cmd("PASS x")
		}
		if _, err := c.r.ReadByte(); err == nil {
			t.Error("connection still open after 3 wrong passwords")
		}
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestCloseEndsConnections(t *testing.T) {
	s := &Server{}
	s.AddUser("a", "b")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	c := dial(t, ln.Addr().String())
	s.Close()
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	if _, err := c.r.ReadByte(); err == nil {
		t.Error("connection open after Close")
	}
	if err := s.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
}

func TestNoUIDLAndDelete(t *testing.T) {
	s := &Server{NoUIDL: true}
	s.AddUser("a", "b")
	u := s.Deliver("a", []byte("Subject: x\n\ny\n"))
	c := dial(t, start(t, s))
	c.cmd("CAPA")
	if caps := strings.Join(c.multi(), ","); strings.Contains(caps, "UIDL") {
		t.Errorf("CAPA offers UIDL: %s", caps)
	}
	c.cmd("USER a")
	c.cmd("PASS b")
	if got := c.cmd("UIDL"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("UIDL: %q", got)
	}
	if !s.Delete("a", u) || s.Delete("a", u) || len(s.UIDLs("a")) != 0 {
		t.Error("Delete")
	}
	// The session keeps its snapshot.
	if got := c.cmd("STAT"); !strings.HasPrefix(got, "+OK 1 ") {
		t.Errorf("STAT %q", got)
	}
}
