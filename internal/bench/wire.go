//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// meter counts what crosses the TCP connections it dials: the Options.Dial
// of the checkers, and the bare clients below.
type meter struct {
	dials, read, written, writes, lines, flights atomic.Int64
}

// traffic is a reading of a meter, or the difference of two.
type traffic struct {
	read, written, writes, lines, flights int64
}

func (m *meter) now() traffic {
	return traffic{m.read.Load(), m.written.Load(), m.writes.Load(), m.lines.Load(), m.flights.Load()}
}

func (t traffic) sub(u traffic) traffic {
	return traffic{t.read - u.read, t.written - u.written, t.writes - u.writes, t.lines - u.lines, t.flights - u.flights}
}

func (m *meter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	m.dials.Add(1)
	mc := &meteredConn{Conn: c, m: m}
	mc.afterRead.Store(true)
	return mc, nil
}

// meteredConn counts bytes, writes, lines written (clear-text commands) and
// flights: writes that follow a read, i.e. round trips.
type meteredConn struct {
	net.Conn
	m         *meter
	afterRead atomic.Bool
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.m.read.Add(int64(n))
		c.afterRead.Store(true)
	}
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	if c.afterRead.Swap(false) {
		c.m.flights.Add(1)
	}
	c.m.writes.Add(1)
	c.m.lines.Add(int64(bytes.Count(p, []byte("\n"))))
	n, err := c.Conn.Write(p)
	c.m.written.Add(int64(n))
	return n, err
}

// bareClient is the least a client can do on a connection like the
// checker's: same dial, same TLS configuration, same login.
type bareClient struct {
	conn net.Conn
	br   *bufio.Reader
}

func (s *server) bareDial(ctx context.Context, m *meter, port int) (*bareClient, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := m.dial(ctx, "tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, &tls.Config{RootCAs: s.roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	tc.SetDeadline(time.Now().Add(60 * time.Second))
	return &bareClient{conn: tc, br: bufio.NewReaderSize(tc, 32<<10)}, nil
}

func (b *bareClient) line() (string, error) {
	l, err := b.br.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

// pop3 sends cmd and reads its status line, and with multi the lines up to ".".
func (b *bareClient) pop3(cmd string, multi bool) (int, error) {
	if _, err := fmt.Fprintf(b.conn, "%s\r\n", cmd); err != nil {
		return 0, err
	}
	l, err := b.line()
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(l, "+OK") {
		return 0, fmt.Errorf("%s: %s", strings.Fields(cmd)[0], l)
	}
	n := 0
	for multi {
		l, err := b.line()
		if err != nil {
			return n, err
		}
		if l == "." {
			break
		}
		n++
	}
	return n, nil
}

// imap sends "tag cmd" and reads up to the tagged reply.
func (b *bareClient) imap(tag, cmd string) error {
	if _, err := fmt.Fprintf(b.conn, "%s %s\r\n", tag, cmd); err != nil {
		return err
	}
	for {
		l, err := b.line()
		if err != nil {
			return err
		}
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				return fmt.Errorf("%s: %s", cmd, l)
			}
			return nil
		}
	}
}

// pop3Floor is the wire floor of a POP3 check: TLS, USER, PASS, STAT, UIDL, QUIT.
func (s *server) pop3Floor(ctx context.Context, m *meter, user, pw string) (int, error) {
	b, err := s.bareDial(ctx, m, s.pop3s)
	if err != nil {
		return 0, err
	}
	defer b.conn.Close()
	if _, err := b.line(); err != nil {
		return 0, err
	}
	for _, c := range []string{"USER " + user, "PASS " + pw, "STAT"} {
		if _, err := b.pop3(c, false); err != nil {
			return 0, err
		}
	}
	n, err := b.pop3("UIDL", true)
	if err != nil {
		return 0, err
	}
	_, err = b.pop3("QUIT", false)
	return n, err
}

// imapStatus is the STATUS the checker sends for a folder.
func imapStatus(folder string) string {
	return "STATUS " + folder + " (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)"
}

// imapSession is an IMAP session by a bare client: TLS, LOGIN, cmds, LOGOUT.
func (s *server) imapSession(ctx context.Context, m *meter, user, pw string, cmds ...string) error {
	b, err := s.bareDial(ctx, m, s.imaps)
	if err != nil {
		return err
	}
	defer b.conn.Close()
	if _, err := b.line(); err != nil {
		return err
	}
	if err := b.imap("a", fmt.Sprintf("LOGIN %s %s", user, pw)); err != nil {
		return err
	}
	for i, c := range cmds {
		if err := b.imap(fmt.Sprintf("c%d", i), c); err != nil {
			return err
		}
	}
	return b.imap("b", "LOGOUT")
}
