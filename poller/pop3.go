package poller

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	pop3 "github.com/knadh/go-pop3"

	"mailsneaker/accounts"
)

// pop3Checker checks a POP3 account (RFC 1939) strictly read-only: it sends
// USER, PASS, UIDL, TOP n 0 (or LIST on servers without UIDL) and QUIT —
// never DELE, never RETR. A POP3 server shows mail that arrived during a
// session only to a later session, so every Check is a session of its own.
type pop3Checker struct {
	a   accounts.Account
	o   *Options
	lim pop3Limits
	// received is the bytes the last check read from the network, for
	// benchmarks.
	received int64
	// loginDelay is the LOGIN-DELAY the server announced in CAPA during the
	// last check (RFC 2449 section 6.8); 0 if none.
	loginDelay time.Duration
	// noCAPA skips CAPA before the login: for the scripted tests that
	// predate it.
	noCAPA bool
}

// NewPOP3 returns a Checker for a POP3 account; it does no I/O until Check.
func NewPOP3(a accounts.Account, o *Options) Checker {
	return &pop3Checker{a: a, o: o, lim: defaultPOP3Limits()}
}

// Check runs one session: connect (TLS, STLS or plain as the account says),
// USER/PASS, UIDL, TOP n 0 for at most MaxMails of the ids q.Want asks for
// (newest first), QUIT. Inbox.IDs is every UIDL on the server.
//
// On a server without UIDL it sends LIST and TOP n 0 for every message and
// makes ids from their headers (see pop3Header.id): a few KiB per message
// and one round trip each, on every check.
func (p *pop3Checker) Check(ctx context.Context, q Query) (*Inbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.ContainsAny(p.a.Username, "\r\n\x00") {
		return nil, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("the user name of account %q contains a line break", p.a.Name)}
	}
	password, err := p.o.passwordSoon(ctx, p.a)
	if err != nil {
		return nil, err
	}
	d := &pop3Dialer{ctx: ctx, a: p.a, o: p.o, lim: p.lim}
	defer func() {
		d.close()
		p.received = d.received()
	}()
	log := p.o.logger().With("account", p.a.Name)
	start := time.Now()
	conn, err := pop3.New(pop3.Opt{Host: p.a.Host, Port: p.a.Port, Dialer: d}).NewConn()
	if err != nil {
		return nil, p.fail(ctx, d, "greeting", err, "")
	}
	pw, err := password()
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(pw, "\r\n\x00") {
		return nil, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("the password of account %q contains a line break", p.a.Name)}
	}
	s := &pop3Session{p: p, ctx: ctx, d: d, c: d.conn, conn: conn, pw: pw}
	in, err := s.run(q)
	if err != nil {
		log.Debug("pop3 check failed", "err", err)
		return nil, err
	}
	// Nothing was changed, so a failing QUIT costs nothing.
	d.conn.expect(p.lim.reply)
	if err := conn.Quit(); err != nil {
		log.Debug("pop3 quit", "err", err)
	}
	log.Debug("pop3 checked", "messages", in.Messages, "described", len(in.Mails), "took", time.Since(start))
	return in, nil
}

// Wait waits for d: a POP3 server cannot tell about new mail.
func (p *pop3Checker) Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MinPollInterval is the shortest wait between checks the server allows:
// its CAPA LOGIN-DELAY, seen in the last check; 0 if it sets none.
func (p *pop3Checker) MinPollInterval() time.Duration { return p.loginDelay }

// Close does nothing: no connection outlives a check.
func (p *pop3Checker) Close() error { return nil }

// fail turns an error of command what into a CheckError. pw is removed from
// whatever the server said, in case it echoes it.
func (p *pop3Checker) fail(ctx context.Context, d *pop3Dialer, what string, err error, pw string) error {
	if ctx.Err() != nil {
		return classifyNet(p.a, ctx.Err())
	}
	var ce *CheckError
	if errors.As(err, &ce) {
		return err
	}
	if d.conn != nil && d.conn.answered() {
		said := err.Error()
		if pw != "" {
			said = strings.ReplaceAll(said, pw, "********")
		}
		said = pop3Clip(pop3Clean(said))
		var msg string
		switch {
		case strings.HasPrefix(said, "unknown response"):
			msg = fmt.Sprintf("%s did not answer %s like a POP3 server", p.a.Addr(), what)
		case what == "greeting":
			msg = fmt.Sprintf("%s refused the session", p.a.Addr())
		default:
			msg = fmt.Sprintf("%s refused %s", p.a.Addr(), what)
		}
		return &CheckError{Kind: KindProtocol, Msg: msg, Err: &ServerReply{Text: said}}
	}
	return classifyNet(p.a, fmt.Errorf("pop3 %s: %w", strings.ToLower(what), err))
}

// pop3Session is one check's conversation after the greeting.
type pop3Session struct {
	p    *pop3Checker
	ctx  context.Context
	d    *pop3Dialer
	c    *pop3Conn
	conn *pop3.Conn
	pw   string // the password, or an oauth2 account's access token
	// capas is the CAPA reply, for the SASL mechanisms of an oauth2 login.
	capas []byte
}

// cmd sends a command and reads its reply within budget bytes.
func (s *pop3Session) cmd(budget int64, multi bool, name string, args ...any) ([]byte, error) {
	s.c.expect(budget)
	b, err := s.conn.Cmd(name, multi, args...)
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// refused reports whether err is the server's -ERR (not the network, a
// limit, or a reply that is neither +OK nor -ERR).
func (s *pop3Session) refused(err error) bool {
	return s.c.answered() && !strings.HasPrefix(err.Error(), "unknown response")
}

func (s *pop3Session) run(q Query) (*Inbox, error) {
	if err := s.capa(); err != nil {
		return nil, err
	}
	if err := s.login(); err != nil {
		return nil, err
	}
	b, err := s.cmd(s.p.lim.listing, true, "UIDL")
	if err != nil {
		if s.refused(err) {
			return s.withoutUIDL(q)
		}
		return nil, s.p.fail(s.ctx, s.d, "UIDL", err, s.pw)
	}
	msgs, err := parseUIDL(b)
	if err != nil {
		return nil, &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s sent a malformed UIDL list", s.p.a.Addr()), Err: err}
	}
	s.c.allow(len(msgs))
	in := &Inbox{IDs: make([]string, 0, len(msgs)), Mails: map[string]Mail{}, Unread: -1, Messages: len(msgs)}
	for _, m := range msgs {
		in.IDs = append(in.IDs, m.UID)
	}
	if q.Want == nil {
		return in, nil
	}
	// Message numbers follow arrival: the highest is the newest. Servers
	// list them in ascending order, so only an odd listing needs sorting.
	byNum := func(a, b pop3Msg) int { return a.Num - b.Num }
	if !slices.IsSortedFunc(msgs, byNum) {
		msgs = slices.Clone(msgs)
		slices.SortFunc(msgs, byNum)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if len(in.Mails) == MaxMails {
			break
		}
		if !q.Want(m.UID) {
			continue
		}
		h, err := s.top(m.Num)
		if err != nil {
			if s.refused(err) {
				// One unreadable message must not hide the others.
				s.p.o.logger().Debug("pop3 top refused", "account", s.p.a.Name, "msg", m.Num, "err", err)
				continue
			}
			return nil, s.p.fail(s.ctx, s.d, "TOP", err, s.pw)
		}
		in.Mails[m.UID] = h.mail(m.UID)
	}
	return in, nil
}

// maxLoginDelay bounds a LOGIN-DELAY, so that a broken server cannot
// silence an account for good.
const maxLoginDelay = 24 * time.Hour

// capa asks the server's capabilities (RFC 2449) after TLS, for its
// LOGIN-DELAY. A server from before CAPA answers -ERR: it has none.
func (s *pop3Session) capa() error {
	s.p.loginDelay = 0
	if s.p.noCAPA {
		return nil
	}
	b, err := s.cmd(s.p.lim.reply, true, "CAPA")
	if err != nil {
		if s.refused(err) {
			return nil
		}
		return s.p.fail(s.ctx, s.d, "CAPA", err, "")
	}
	s.p.loginDelay = parseLoginDelay(b)
	s.capas = b
	return nil
}

// parseLoginDelay returns the "LOGIN-DELAY n" of a CAPA reply (RFC 2449
// section 6.8), at most maxLoginDelay; 0 if there is none or it is not a
// number.
func parseLoginDelay(capa []byte) time.Duration {
	for line := range strings.Lines(string(capa)) {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[0], "LOGIN-DELAY") {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return 0
		}
		return min(time.Duration(n)*time.Second, maxLoginDelay)
	}
	return 0
}

// login sends USER and PASS; RFC 1939 section 7. (go-pop3's Auth adds a NOOP
// round trip that tells nothing PASS did not.)
func (s *pop3Session) login() error {
	if s.p.a.OAuth2() {
		return s.oauthLogin()
	}
	if _, err := s.cmd(s.p.lim.reply, false, "USER", s.p.a.Username); err != nil {
		return s.loginFailed(err)
	}
	if _, err := s.cmd(s.p.lim.reply, false, "PASS", s.pw); err != nil {
		return s.loginFailed(err)
	}
	return nil
}

func (s *pop3Session) loginFailed(err error) error {
	if !s.refused(err) {
		return s.p.fail(s.ctx, s.d, "login", err, s.pw)
	}
	where := "stored in the keychain"
	if s.p.a.PasswordCommand != "" {
		where = "from password_command"
	}
	said := strings.ReplaceAll(err.Error(), s.pw, "********")
	cause := &ServerReply{Text: pop3Clip(pop3Clean(said))}
	host := s.p.a.Host
	// Response codes, RFC 2449 §8 and RFC 3206: "check the password" only
	// for [AUTH] or no code.
	switch pop3Code(said) {
	case "IN-USE":
		return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s refused the login: the mailbox is in use by another session (a mail client downloading?); it will be tried again", host), Err: cause}
	case "LOGIN-DELAY":
		if d := s.p.loginDelay; d > 0 {
			// When the last login was is unknown here: now + d is the
			// latest the next one can be refused.
			return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s refused the login (LOGIN-DELAY): the server allows one login every %d s; try again after %s", host, int64(d/time.Second), time.Now().Add(d).Format(time.TimeOnly)), Err: cause}
		}
		return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s refused the login: it allows one only every so often (LOGIN-DELAY); it will be tried again, or raise poll_interval", host), Err: cause}
	case "SYS/TEMP":
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("%s cannot log in now (a temporary problem on the server); it will be tried again", host), Err: cause}
	case "SYS/PERM":
		return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s cannot log in (a lasting problem on the server): ask its administrator", host), Err: cause}
	}
	busy := &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s has too many connections from this user: close another mail app, or wait", host), Err: cause}
	if busy.TooManyConnections() {
		// Dovecot's mail_max_userip_connections, said without a code: the
		// password was fine; "check the password" would mislead.
		return busy
	}
	return &CheckError{Kind: KindAuth,
		Msg: fmt.Sprintf("login refused by %s: check the password (%s) and the user name %q", host, where, s.p.a.Username),
		Err: cause}
}

// pop3CodeRE finds the response code in an -ERR text.
var pop3CodeRE = regexp.MustCompile(`\[([A-Za-z0-9/-]+)\]`)

// pop3Code returns the response code of a refusal ("IN-USE"), or "".
func pop3Code(said string) string {
	if m := pop3CodeRE.FindStringSubmatch(said); m != nil {
		return strings.ToUpper(m[1])
	}
	return ""
}

// top reads the header of message n.
func (s *pop3Session) top(n int) (pop3Header, error) {
	b, err := s.cmd(s.p.lim.reply, true, "TOP", n, 0)
	if err != nil {
		return pop3Header{}, err
	}
	return parsePOP3Header(b), nil
}

// withoutUIDL serves servers that refuse UIDL: LIST, then TOP n 0 for every
// message, ids from hashed headers. Identical headers get "#2", "#3", ... in
// the order of the messages, so the count stays right.
func (s *pop3Session) withoutUIDL(q Query) (*Inbox, error) {
	b, err := s.cmd(s.p.lim.listing, true, "LIST")
	if err != nil {
		return nil, s.p.fail(s.ctx, s.d, "LIST", err, s.pw)
	}
	msgs, err := parseLIST(b)
	if err != nil {
		return nil, &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s sent a malformed LIST", s.p.a.Addr()), Err: err}
	}
	s.c.allow(len(msgs))
	slices.SortFunc(msgs, func(a, b pop3Msg) int { return a.Num - b.Num })
	in := &Inbox{IDs: make([]string, 0, len(msgs)), Mails: map[string]Mail{}, Unread: -1, Messages: len(msgs)}
	heads := make([]pop3Header, len(msgs))
	used := make(map[string]int, len(msgs))
	for i, m := range msgs {
		h, err := s.top(m.Num)
		if err != nil {
			if s.refused(err) {
				return nil, &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s supports neither UIDL nor TOP: MailSneaker cannot tell its messages apart", s.p.a.Addr()), Err: err}
			}
			return nil, s.p.fail(s.ctx, s.d, "TOP", err, s.pw)
		}
		id := h.id()
		if used[id]++; used[id] > 1 {
			id = fmt.Sprintf("%s#%d", id, used[id])
		}
		heads[i] = h
		in.IDs = append(in.IDs, id)
	}
	if q.Want != nil {
		for i := len(in.IDs) - 1; i >= 0 && len(in.Mails) < MaxMails; i-- {
			if id := in.IDs[i]; q.Want(id) {
				in.Mails[id] = heads[i].mail(id)
			}
		}
	}
	return in, nil
}
