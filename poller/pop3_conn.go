package poller

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"

	"mailsneaker/accounts"
)

// pop3Limits bound what a POP3 server may make a check read, so that a
// broken or hostile server costs bounded memory and time. go-pop3 reads with
// bufio ReadBytes('\n') and collects whole multi-line replies in memory, so
// the bounds are enforced underneath it, in pop3Conn.
type pop3Limits struct {
	line    int64 // bytes without a '\n'
	listing int64 // one UIDL or LIST reply
	reply   int64 // any other reply: greeting, CAPA, TOP headers, ...
	session int64 // everything one check reads, before the message count is known
	perMsg  int64 // added to session for every message the server lists
}

func defaultPOP3Limits() pop3Limits {
	return pop3Limits{
		line:    64 << 10, // RFC 1939 lines are 512 bytes; header lines are ≤ 998
		listing: 24 << 20, // ≈ 1M messages with Dovecot's 16-character UIDLs
		reply:   8 << 20,  // headers of one message, even a spam-sized one
		session: 64 << 20,
		perMsg:  64 << 10, // room for TOP headers of every message (the no-UIDL fallback)
	}
}

// pop3Conn is the connection go-pop3 reads from: it replays the greeting
// already read during STLS, enforces pop3Limits, and remembers whether an
// error came from the network (rather than from the server's words).
type pop3Conn struct {
	net.Conn
	addr     string
	lim      pop3Limits
	greeting []byte // replayed before anything from Conn
	line     int64  // bytes since the last '\n'
	reply    int64  // bytes of the current reply
	replyMax int64
	total    int64 // bytes of the whole session
	totalMax int64
	ioErr    error // the last error of Conn itself
	fail     error // a limit was exceeded; sticky
}

func newPOP3Conn(c net.Conn, a accounts.Account, lim pop3Limits) *pop3Conn {
	return &pop3Conn{Conn: c, addr: a.Addr(), lim: lim, replyMax: lim.reply, totalMax: lim.session}
}

func (c *pop3Conn) Read(p []byte) (int, error) {
	if c.fail != nil {
		return 0, c.fail
	}
	if len(c.greeting) > 0 {
		n := copy(p, c.greeting)
		c.greeting = c.greeting[n:]
		return n, nil
	}
	n, err := c.Conn.Read(p)
	if err != nil {
		c.ioErr = err
	}
	if ferr := c.count(p[:n]); ferr != nil {
		c.fail = ferr
		return 0, ferr
	}
	return n, err
}

func (c *pop3Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.ioErr = err
	}
	return n, err
}

// count charges b to the line, reply and session budgets.
func (c *pop3Conn) count(b []byte) error {
	c.reply += int64(len(b))
	c.total += int64(len(b))
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.line += int64(len(b))
			break
		}
		if c.line+int64(i) > c.lim.line {
			c.line += int64(i)
			break
		}
		c.line = 0
		b = b[i+1:]
	}
	switch {
	case c.line > c.lim.line:
		return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s sent a line longer than %s: is this a POP3 server?", c.addr, pop3Size(c.lim.line)), Err: errPOP3LineTooLong}
	case c.reply > c.replyMax:
		return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s sent a reply longer than %s", c.addr, pop3Size(c.replyMax)), Err: errPOP3TooMuch}
	case c.total > c.totalMax:
		return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s sent more than %s in one session", c.addr, pop3Size(c.totalMax)), Err: errPOP3TooMuch}
	}
	return nil
}

// expect starts the budget of the reply to the next command.
func (c *pop3Conn) expect(max int64) {
	c.reply, c.replyMax = 0, max
}

// allow widens the session budget once the server has said how many
// messages it holds.
func (c *pop3Conn) allow(messages int) {
	c.totalMax = c.lim.session + int64(messages)*c.lim.perMsg
}

// answered reports whether the last failed command failed because of what
// the server said (-ERR or nonsense) rather than the network or a limit.
func (c *pop3Conn) answered() bool { return c.ioErr == nil && c.fail == nil }

type pop3Error string

func (e pop3Error) Error() string { return string(e) }

const (
	errPOP3LineTooLong = pop3Error("line too long")
	errPOP3TooMuch     = pop3Error("too much data")
)

func pop3Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// pop3Dialer is go-pop3's Opt.Dialer: it opens the connection with our
// deadlines and our TLS configuration, and for security "starttls" runs
// CAPA and STLS itself, so that go-pop3 only ever sees a secured session.
type pop3Dialer struct {
	ctx  context.Context
	a    accounts.Account
	o    *Options
	lim  pop3Limits
	raw  *deadlineConn
	conn *pop3Conn
	stop func() bool // unregisters the close-on-cancel hook
}

// Dial ignores network and addr: go-pop3 formats addr without brackets for
// IPv6, and the account knows better.
func (d *pop3Dialer) Dial(_, _ string) (net.Conn, error) {
	raw, err := dialTCP(d.ctx, d.a, d.o)
	if err != nil {
		return nil, err
	}
	// go-pop3 takes no context: closing the socket is how cancellation reaches it.
	d.raw, d.stop = raw, context.AfterFunc(d.ctx, func() { raw.Close() })
	c := newPOP3Conn(raw, d.a, d.lim)
	switch d.a.Security {
	case accounts.TLS, "":
		tc, err := tlsClient(d.ctx, d.a, d.o, raw)
		if err != nil {
			raw.Close()
			return nil, err
		}
		c.Conn = tc
	case accounts.StartTLS:
		if err := d.startTLS(c); err != nil {
			raw.Close()
			return nil, err
		}
	case accounts.None:
	default:
		raw.Close()
		return nil, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("account %q: unknown security %q (tls, starttls or none)", d.a.Name, d.a.Security)}
	}
	d.conn = c
	return c, nil
}

// startTLS reads the greeting, checks CAPA for STLS (RFC 2595 section 4),
// upgrades the connection and arranges for go-pop3 to read the greeting.
// It refuses before any credentials are sent when STLS is not offered.
func (d *pop3Dialer) startTLS(c *pop3Conn) error {
	r := bufio.NewReader(c)
	greeting, err := d.readLine(c, r)
	if err != nil {
		return err
	}
	if !pop3OK(greeting) {
		return d.protocolError("greeted with", greeting)
	}
	offered, capaOK := false, false
	c.expect(c.lim.reply)
	if err := d.send(c, "CAPA"); err != nil {
		return err
	}
	line, err := d.readLine(c, r)
	if err != nil {
		return err
	}
	switch {
	case pop3OK(line):
		capaOK = true
		for {
			l, err := d.readLine(c, r)
			if err != nil {
				return err
			}
			if l == "." {
				break
			}
			if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], "STLS") {
				offered = true
			}
		}
	case strings.HasPrefix(line, "-ERR"):
		// A server from before CAPA (RFC 2449) may still know STLS; asking
		// reveals nothing.
	default:
		return d.protocolError("answered CAPA with", line)
	}
	refuse := &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("server %s does not offer STLS; refusing to send the password in clear", d.a.Addr())}
	if capaOK && !offered {
		return refuse
	}
	c.expect(c.lim.reply)
	if err := d.send(c, "STLS"); err != nil {
		return err
	}
	line, err = d.readLine(c, r)
	if err != nil {
		return err
	}
	if !pop3OK(line) {
		refuse.Err = fmt.Errorf("STLS: %q", line)
		return refuse
	}
	if r.Buffered() > 0 {
		// Bytes sent before the handshake would be read as if they came
		// through TLS (the CVE-2011-0411 injection).
		return &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("server %s sent data before the TLS handshake; refusing the connection", d.a.Addr())}
	}
	tc, err := tlsClient(d.ctx, d.a, d.o, c.Conn)
	if err != nil {
		return err
	}
	c.Conn, c.line = tc, 0
	c.greeting = []byte(greeting + "\r\n")
	return nil
}

func (d *pop3Dialer) send(c *pop3Conn, cmd string) error {
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return classifyNet(d.a, fmt.Errorf("pop3 %s: %w", strings.ToLower(cmd), err))
	}
	return nil
}

// readLine reads one line without its line break; pop3Conn bounds its length.
func (d *pop3Dialer) readLine(c *pop3Conn, r *bufio.Reader) (string, error) {
	b, err := r.ReadBytes('\n')
	if err != nil {
		return "", classifyNet(d.a, fmt.Errorf("pop3: %w", err))
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (d *pop3Dialer) protocolError(what, line string) error {
	return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s %s %q: is this a POP3 server?", d.a.Addr(), what, pop3Clip(line))}
}

// received is how many bytes the check read from the network (TLS included).
func (d *pop3Dialer) received() int64 {
	if d.raw == nil {
		return 0
	}
	return d.raw.read
}

func (d *pop3Dialer) close() {
	if d.stop != nil {
		d.stop()
	}
	if d.raw != nil {
		d.raw.Close()
	}
}

func pop3OK(line string) bool { return line == "+OK" || strings.HasPrefix(line, "+OK ") }

// pop3Clip shortens what a server said for an error message.
func pop3Clip(s string) string { return clipRunes(s, 80) }

// clipRunes is s, made valid UTF-8, cut to n runes.
func clipRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
