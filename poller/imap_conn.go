package poller

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailsneaker/accounts"
)

// imapLogoutTimeout bounds the polite LOGOUT on Close: a dead server must
// not hold up the quit.
const imapLogoutTimeout = 2 * time.Second

// imapSession is one logged-in IMAP connection.
type imapSession struct {
	c    *imapclient.Client
	conn net.Conn // the TCP connection under c: closing it unblocks every call
	caps imap.CapSet
	idle *imapIdleConn // non-nil for IDLE sessions
}

// alive reports whether the reader goroutine of the client still runs.
func (s *imapSession) alive() bool {
	select {
	case <-s.c.Closed():
		return false
	default:
		return true
	}
}

// logout says LOGOUT, waits at most imapLogoutTimeout for the reply and
// closes the connection. It waits for the client's goroutines to end.
func (s *imapSession) logout() {
	if s.alive() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.c.Logout().Wait()
		}()
		t := time.NewTimer(imapLogoutTimeout)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
		s.conn.Close()
		<-done
	}
	s.close()
}

// close drops the connection at once.
func (s *imapSession) close() {
	s.conn.Close()
	s.c.Close()
}

// imapDial opens a logged-in session to the account's server. With idle set
// the connection's read timeout can be stretched while IDLE runs. h receives
// the unilateral data (nil: none).
func imapDial(ctx context.Context, a accounts.Account, o *Options, h *imapclient.UnilateralDataHandler, idle bool) (*imapSession, error) {
	password, err := o.passwordSoon(ctx, a)
	if err != nil {
		return nil, err
	}
	dc, err := dialTCP(ctx, a, o)
	if err != nil {
		return nil, err
	}
	var transport net.Conn = dc
	var ic *imapIdleConn
	if idle {
		ic = newIMAPIdleConn(dc.Conn, o.timeout())
		transport = ic
	}
	// A cancelled ctx closes the connection, so that a blocked call returns.
	stop := context.AfterFunc(ctx, func() { dc.Conn.Close() })
	defer stop()

	s, err := imapLogin(ctx, a, o, transport, h, password)
	if err != nil {
		dc.Conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	s.conn = dc.Conn
	s.idle = ic
	return s, nil
}

func imapLogin(ctx context.Context, a accounts.Account, o *Options, conn net.Conn, h *imapclient.UnilateralDataHandler, password func() (string, error)) (*imapSession, error) {
	log := o.logger().With("account", a.Name)
	switch a.Security {
	case accounts.TLS:
		tc, err := tlsClient(ctx, a, o, conn)
		if err != nil {
			return nil, err
		}
		conn = tc
	case accounts.StartTLS:
		tc, err := imapStartTLS(ctx, a, o, conn)
		if err != nil {
			return nil, err
		}
		conn = tc
	case accounts.None:
	default:
		return nil, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("unknown security %q for account %q: use tls, starttls or none", a.Security, a.Name)}
	}
	conn = &imapLimitConn{Conn: conn, addr: a.Addr()}
	c := imapclient.New(conn, &imapclient.Options{UnilateralDataHandler: h, WordDecoder: newWordDecoder()})
	s := &imapSession{c: c}
	fail := func(err error) (*imapSession, error) {
		c.Close()
		return nil, err
	}
	if err := c.WaitGreeting(); err != nil {
		return fail(imapNetErr(a, "greeting", err))
	}
	if c.State() != imap.ConnStateAuthenticated { // not PREAUTH
		caps := c.Caps()
		if caps == nil {
			return fail(imapNetErr(a, "capability", errors.New("no CAPABILITY reply")))
		}
		if caps.Has(imap.CapLoginDisabled) {
			return fail(&CheckError{Kind: KindConfig, Msg: fmt.Sprintf("%s refuses to log in without TLS: set security to tls or starttls", a.Host)})
		}
		pw, err := password()
		if err != nil {
			return fail(err)
		}
		if a.OAuth2() {
			if err := imapOAuthLogin(ctx, a, o, c, caps, pw); err != nil {
				return fail(err)
			}
		} else {
			log.Debug("imap LOGIN", "user", a.Username)
			if err := c.Login(a.Username, pw).Wait(); err != nil {
				// Some servers quote the whole command, password and all, in
				// their reply; it must not reach the error, the logs or the UI.
				var ie *imap.Error
				if !errors.As(err, &ie) {
					return fail(imapMask(imapNetErr(a, "login", err), pw))
				}
				if m, ok := imapMask(ie, pw).(*imap.Error); ok {
					ie = m // before imapLoginRefused clips its text
				}
				return fail(imapMask(imapLoginRefused(a, ie, err), pw))
			}
		}
	}
	s.caps = c.Caps()
	if s.caps == nil {
		return fail(imapNetErr(a, "capability", errors.New("no CAPABILITY reply")))
	}
	return s, nil
}

// imapMasked replaces what stands for the password.
const imapMasked = "********"

// imapMask removes pw from err's text, as the server may have written it:
// verbatim, or as the quoted string LOGIN sent (RFC 9051 §4.3: \ and \"
// escaped). A *CheckError keeps its kind and a server's *imap.Error its code,
// so callers can still tell them apart; other errors become plain text.
func imapMask(err error, pw string) error {
	if err == nil || pw == "" {
		return err
	}
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(pw)
	r := strings.NewReplacer(quoted, imapMasked, pw, imapMasked)
	if quoted == pw {
		r = strings.NewReplacer(pw, imapMasked)
	}
	if !strings.Contains(err.Error(), pw) && !strings.Contains(err.Error(), quoted) {
		return err
	}
	var ce *CheckError
	if errors.As(err, &ce) {
		masked := *ce
		masked.Msg = r.Replace(ce.Msg)
		masked.Err = imapMask(ce.Err, pw)
		return &masked
	}
	if ie, ok := err.(*imap.Error); ok {
		masked := *ie
		masked.Text = r.Replace(ie.Text)
		return &masked
	}
	return errors.New(r.Replace(err.Error()))
}

// imapStartTLS does the clear-text part of STARTTLS itself (RFC 9051 §6.2.1)
// so that it can refuse a server that does not advertise it before any
// credential is sent, then runs the TLS handshake. The returned connection
// replays a greeting for imapclient, which thus asks for the capabilities
// again, as the RFC requires after STARTTLS.
func imapStartTLS(ctx context.Context, a accounts.Account, o *Options, conn net.Conn) (net.Conn, error) {
	br := bufio.NewReaderSize(conn, 4096)
	greeting, err := imapReadLine(br)
	if err != nil {
		return nil, classifyNet(a, err)
	}
	g := strings.ToUpper(greeting)
	switch {
	case strings.HasPrefix(g, "* OK"):
	case strings.HasPrefix(g, "* PREAUTH"):
		return nil, &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("%s logged in without TLS (PREAUTH) on a STARTTLS port: use security tls", a.Addr())}
	default:
		return nil, &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s did not greet as an IMAP server: check host and port", a.Addr())}
	}
	caps, ok := imapCapsFromCode(g)
	if !ok {
		if _, err := io.WriteString(conn, "S0 CAPABILITY\r\n"); err != nil {
			return nil, classifyNet(a, err)
		}
		for {
			line, err := imapReadLine(br)
			if err != nil {
				return nil, classifyNet(a, err)
			}
			u := strings.ToUpper(line)
			if rest, ok := strings.CutPrefix(u, "* CAPABILITY "); ok {
				caps = strings.Fields(rest)
			} else if strings.HasPrefix(u, "S0 ") {
				break
			}
		}
	}
	if !imapHasAtom(caps, "STARTTLS") {
		return nil, &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("%s does not offer STARTTLS, so the password would travel in clear text: use security tls (port 993) if the server has it", a.Addr())}
	}
	if _, err := io.WriteString(conn, "S1 STARTTLS\r\n"); err != nil {
		return nil, classifyNet(a, err)
	}
	for {
		line, err := imapReadLine(br)
		if err != nil {
			return nil, classifyNet(a, err)
		}
		u := strings.ToUpper(line)
		if strings.HasPrefix(u, "S1 OK") {
			break
		}
		if strings.HasPrefix(u, "S1 ") {
			return nil, &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("%s refused STARTTLS: %s", a.Addr(), line)}
		}
	}
	if br.Buffered() > 0 {
		// Clear text after "OK begin TLS" would be read as if it came
		// over TLS: a known injection attack (CVE-2011-0411 style).
		return nil, &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("%s sent clear text after STARTTLS: refusing the connection", a.Addr())}
	}
	tc, err := tlsClient(ctx, a, o, conn)
	if err != nil {
		return nil, err
	}
	return &imapGreetedConn{Conn: tc, r: io.MultiReader(strings.NewReader("* OK TLS is on\r\n"), tc)}, nil
}

// imapReadLine reads one CRLF-terminated line of at most 8 KiB.
func imapReadLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if err == nil {
			return strings.TrimRight(string(b), "\r\n"), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
		if len(b) > 8192 {
			return "", errors.New("imap: line too long")
		}
	}
}

// imapCapsFromCode returns the atoms of a "[CAPABILITY ...]" response code.
func imapCapsFromCode(line string) ([]string, bool) {
	_, rest, ok := strings.Cut(line, "[CAPABILITY ")
	if !ok {
		return nil, false
	}
	list, _, ok := strings.Cut(rest, "]")
	if !ok {
		return nil, false
	}
	return strings.Fields(list), true
}

func imapHasAtom(list []string, atom string) bool {
	for _, s := range list {
		if strings.EqualFold(s, atom) {
			return true
		}
	}
	return false
}

// imapGreetedConn is a connection whose first bytes are replayed from r.
type imapGreetedConn struct {
	net.Conn
	r io.Reader
}

func (c *imapGreetedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// imapIdleConn is deadlineConn with a read timeout that can be stretched
// while IDLE waits for a quiet server; writes keep the normal timeout.
type imapIdleConn struct {
	net.Conn
	timeout time.Duration

	mu   sync.Mutex
	read time.Duration
	prog progress
}

func newIMAPIdleConn(c net.Conn, timeout time.Duration) *imapIdleConn {
	return &imapIdleConn{Conn: c, timeout: timeout, read: timeout}
}

func (c *imapIdleConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	read := c.read
	err := c.Conn.SetReadDeadline(time.Now().Add(read))
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	// While IDLE waits a quiet server is fine; otherwise a dripping one is
	// as good as a silent one (see progress).
	if read == c.timeout {
		if perr := c.prog.add(n, c.timeout); perr != nil && err == nil {
			return n, perr
		}
	} else {
		c.prog.restart()
	}
	return n, err
}

func (c *imapIdleConn) Write(p []byte) (int, error) {
	c.prog.restart()
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// setReadTimeout changes the read timeout, for the Read in progress too.
func (c *imapIdleConn) setReadTimeout(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read = d
	c.Conn.SetReadDeadline(time.Now().Add(d))
}

// imapNetErr turns an error from imapclient into a CheckError. The library
// flattens I/O errors into text, so timeouts are told apart by their words.
func imapNetErr(a accounts.Account, op string, err error) error {
	var ce *CheckError
	if errors.As(err, &ce) {
		return err
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s refused %s", a.Host, op), Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return classifyNet(a, err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, imapLimitWords):
		// imapLimitConn's error, flattened into text by imapclient.
		_, said, _ := strings.Cut(msg, imapLimitWords)
		return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s sent %s%s: is this an IMAP server?", a.Addr(), imapLimitWords, said), Err: err}
	case strings.Contains(msg, "timeout"):
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("%s did not answer in time (%s)", a.Addr(), op), Err: err}
	case strings.Contains(msg, "EOF"), strings.Contains(msg, "closed"), strings.Contains(msg, "reset by peer"), strings.Contains(msg, "broken pipe"):
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("%s closed the connection (%s)", a.Addr(), op), Err: err}
	}
	return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("talking to %s failed (%s)", a.Addr(), op), Err: err}
}

// Bounds on what an IMAP server may make the client read. imapclient keeps a
// whole line or literal in memory and sets no limit (its decoder's MaxSize
// is left at 0), so a broken or hostile server could make it grow without
// bound: a 10 MB line, an endless literal. They are far above real replies:
// a SEARCH line without ESEARCH for a million unseen mails is ~8 MB, the
// envelopes of imapResetCap mails a few MB.
const (
	imapMaxLine  = 8 << 20  // bytes without a '\n'
	imapMaxReply = 32 << 20 // bytes read between two commands of ours
)

// imapLimitWords starts the text of a limit error; imapNetErr finds it there.
const imapLimitWords = "more than "

// imapLimitConn enforces imapMaxLine and imapMaxReply under imapclient. Its
// Read runs in imapclient's reader goroutine, Write in the caller's.
type imapLimitConn struct {
	net.Conn
	addr  string
	line  int64
	reply atomic.Int64
	err   error // the first Read error; every later Read returns it
}

func (c *imapLimitConn) Read(p []byte) (int, error) {
	// imapclient's decoder goes on reading after an error (bufio hands the
	// error out once, then reads again), so without this a server that
	// stopped answering cost up to four read timeouts — two minutes with
	// the default — before the check failed (found by the hang tests).
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.read(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *imapLimitConn) read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	b := p[:n]
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		c.line = int64(n - i - 1)
	} else {
		c.line += int64(n)
	}
	switch {
	case c.line > imapMaxLine:
		return 0, fmt.Errorf("imap: %s%s in one line", imapLimitWords, pop3Size(imapMaxLine))
	case c.reply.Add(int64(n)) > imapMaxReply:
		return 0, fmt.Errorf("imap: %s%s in reply to one command", imapLimitWords, pop3Size(imapMaxReply))
	}
	return n, err
}

func (c *imapLimitConn) Write(p []byte) (int, error) {
	c.reply.Store(0)
	return c.Conn.Write(p)
}
