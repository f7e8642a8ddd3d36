package poller

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
)

// DefaultTimeout bounds every network read and write, and the dial.
const DefaultTimeout = 30 * time.Second

// Options are what a checker needs besides its account. A nil *Options is
// the zero value.
type Options struct {
	// Password returns the account's password; it is called once per login.
	Password func(ctx context.Context) (string, error)
	// RootCAs replaces the system roots (tests); the account's ca_file is
	// added to either.
	RootCAs *x509.CertPool
	// Timeout bounds every read, write and dial; 0 means DefaultTimeout.
	Timeout time.Duration
	// Dial opens the TCP connection; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives debug logs; nil discards them. Secrets are never logged.
	Logger *slog.Logger
	// OAuth gives the access tokens of an account with auth = "oauth2"
	// (share one per account: oauth.Sources); nil means a new
	// oauth.Source with the default keychain at each login.
	OAuth *oauth.Source
}

func (o *Options) timeout() time.Duration {
	if o == nil || o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o *Options) logger() *slog.Logger {
	if o == nil || o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o *Options) password(ctx context.Context, a accounts.Account) (string, error) {
	if o == nil || o.Password == nil {
		return "", &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("no password source for account %q", a.Name)}
	}
	pw, err := o.Password(ctx)
	if err != nil {
		return "", &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("cannot get the password of account %q", a.Name), Err: err}
	}
	return pw, nil
}

// passwordSoon starts getting the password — a keychain call or a
// password_command, milliseconds either way — while the connection is set
// up, and returns the function that waits for it. The goroutine ends on its
// own (the channel is buffered) if nobody waits. An account without a
// password source is refused at once, before any connection.
func (o *Options) passwordSoon(ctx context.Context, a accounts.Account) (func() (string, error), error) {
	if a.OAuth2() {
		return o.tokenSoon(ctx, a)
	}
	if o == nil || o.Password == nil {
		_, err := o.password(ctx, a)
		return nil, err
	}
	type result struct {
		pw  string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		pw, err := o.password(ctx, a)
		ch <- result{pw, err}
	}()
	return func() (string, error) {
		r := <-ch
		return r.pw, r.err
	}, nil
}

// tlsConfig trusts the system roots (or Options.RootCAs) plus the account's
// ca_file, and verifies the certificate against the account's host.
func tlsConfig(a accounts.Account, o *Options) (*tls.Config, error) {
	var pool *x509.CertPool
	if o != nil && o.RootCAs != nil {
		pool = o.RootCAs.Clone()
	} else if sys, err := x509.SystemCertPool(); err == nil {
		pool = sys
	} else {
		pool = x509.NewCertPool()
	}
	if a.CAFile != "" {
		pem, err := accounts.ReadCAFile(a.CAFile)
		if err != nil {
			return nil, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("cannot read ca_file of account %q", a.Name), Err: err}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("ca_file %s of account %q holds no PEM certificate", a.CAFile, a.Name)}
		}
	}
	return &tls.Config{RootCAs: pool, ServerName: a.Host, MinVersion: tls.VersionTLS12}, nil
}

// dialTCP opens the TCP connection to the account's server, wrapped so that
// every Read and Write has a deadline.
func dialTCP(ctx context.Context, a accounts.Account, o *Options) (*deadlineConn, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	dial := (&net.Dialer{}).DialContext
	if o != nil && o.Dial != nil {
		dial = o.Dial
	}
	c, err := dial(ctx, "tcp", a.Addr())
	if err != nil {
		return nil, classifyNet(a, err)
	}
	return &deadlineConn{Conn: c, timeout: o.timeout()}, nil
}

// deadlineConn sets a fresh deadline before every Read and Write, so a
// server that stops answering is noticed within the timeout wherever the
// protocol library happens to be.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
	prog    progress
	// read counts the bytes received, for benchmarks.
	read int64
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.read += int64(n)
	if perr := c.prog.add(n, c.timeout); perr != nil && err == nil {
		return n, perr
	}
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	c.prog.restart()
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// minProgress is how many bytes a server must send per timeout while we wait
// for it: a per-Read deadline alone is renewed forever by a server that
// drips a byte every few seconds (found by the hostile-server tests: such a
// check never ended).
const minProgress = 1 << 10

// progress notices a server that answers too slowly to be of use: less than
// minProgress bytes within a timeout since our last command or since the
// last minProgress bytes. Read and Write may run in different goroutines.
type progress struct {
	mu   sync.Mutex
	mark time.Time
	got  int
}

// restart starts the clock again: a command was sent.
func (p *progress) restart() {
	p.mu.Lock()
	p.mark, p.got = time.Now(), 0
	p.mu.Unlock()
}

// add counts n bytes read and fails when the server is dripping.
func (p *progress) add(n int, timeout time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.mark.IsZero() {
		p.mark = now
	}
	p.got += n
	if p.got >= minProgress {
		p.mark, p.got = now, 0
		return nil
	}
	if now.Sub(p.mark) > timeout {
		return errDrip
	}
	return nil
}

// dripError is a timeout: the server sent too little to count as answering.
type dripError struct{}

func (dripError) Error() string   { return "i/o timeout: the server sent under 1 KiB per timeout" }
func (dripError) Timeout() bool   { return true }
func (dripError) Temporary() bool { return false }

var errDrip net.Error = dripError{}

// tlsClient runs the TLS handshake over c (implicit TLS or after STARTTLS),
// bounded by the timeout.
func tlsClient(ctx context.Context, a accounts.Account, o *Options, c net.Conn) (*tls.Conn, error) {
	cfg, err := tlsConfig(a, o)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, cfg)
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, classifyNet(a, err)
	}
	return tc, nil
}

// classifyNet turns a dial, TLS or I/O error into a CheckError whose message
// says what happened in plain words.
func classifyNet(a accounts.Account, err error) error {
	var ce *CheckError
	if errors.As(err, &ce) {
		return err
	}
	where := a.Addr()
	var (
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		hostErr  x509.HostnameError
		unkAuth  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("cannot resolve %s: no such host; check the host name", a.Host), Err: err}
	case errors.As(err, &dnsErr):
		// No answer at all: the name server is out of reach, which is
		// what being offline looks like; the name itself may be fine.
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("cannot resolve %s: no answer from the name server; are you offline?", a.Host), Err: err}
	case errors.As(err, &hostErr):
		return &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("certificate of %s is for another name (%s): check the host name", where, certNames(hostErr.Certificate)), Err: err}
	case errors.As(err, &unkAuth):
		msg := fmt.Sprintf("certificate of %s is not trusted (issuer %q)", where, issuer(unkAuth.Cert))
		if unkAuth.Cert != nil && unkAuth.Cert.Subject.String() == unkAuth.Cert.Issuer.String() {
			msg = fmt.Sprintf("certificate of %s is self-signed (subject %q)", where, unkAuth.Cert.Subject.String())
		}
		return &CheckError{Kind: KindTLS, Msg: msg + ": set ca_file to its CA if you trust this server", Err: err}
	case errors.As(err, &invalid):
		why := "is invalid"
		if invalid.Reason == x509.Expired {
			why = fmt.Sprintf("has expired or is not yet valid (valid %s to %s)",
				invalid.Cert.NotBefore.Format(time.DateOnly), invalid.Cert.NotAfter.Format(time.DateOnly))
		}
		return &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("certificate of %s (subject %q) %s", where, invalid.Cert.Subject.String(), why), Err: err}
	case errors.As(err, &certErr):
		return &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("certificate of %s was refused", where), Err: err}
	case errors.As(err, &recErr), errors.As(err, &alertErr):
		return &CheckError{Kind: KindTLS, Msg: fmt.Sprintf("TLS handshake with %s failed: is security (tls/starttls) right for port %d?", where, a.Port), Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("%s did not answer in time", where), Err: err}
	case errors.Is(err, context.Canceled):
		return err
	case isRefused(err):
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("%s refused the connection: check host and port", where), Err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("%s closed the connection", where), Err: err}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("cannot reach %s", where), Err: err}
	}
	return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("talking to %s failed", where), Err: err}
}

func isRefused(err error) bool {
	return strings.Contains(err.Error(), "connection refused")
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "unknown"
	}
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return c.Subject.CommonName
	}
	return strings.Join(names, ", ")
}

func issuer(c *x509.Certificate) string {
	if c == nil {
		return "unknown"
	}
	return c.Issuer.String()
}
