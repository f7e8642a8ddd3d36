package pop3d

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// session is one connection: AUTHORIZATION, then TRANSACTION on a snapshot
// of the maildrop, then UPDATE at QUIT (RFC 1939 section 3).
type session struct {
	s       *Server
	c       net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	tls     bool
	user    string // given by USER
	authed  bool
	msgs    []*message
	deleted map[*message]bool
	fails   int
}

func newSession(s *Server, c net.Conn) *session {
	_, isTLS := c.(*tls.Conn)
	return &session{s: s, c: c, r: bufio.NewReaderSize(c, MaxLine), w: bufio.NewWriter(c), tls: isTLS}
}

// errQuit ends a session after its reply has been sent.
var errQuit = errors.New("quit")

func (ss *session) serve() {
	defer ss.c.Close()
	if err := ss.reply("+OK pop3d ready"); err != nil {
		return
	}
	for {
		line, err := ss.readLine()
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				ss.reply("-ERR line too long")
			}
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if ss.s.OnCommand != nil {
			user := ""
			if ss.authed {
				user = ss.user
			}
			ss.s.OnCommand(user, verb)
		}
		if err := ss.handle(verb, arg); err != nil {
			return
		}
	}
}

func (ss *session) readLine() (string, error) {
	if err := ss.c.SetReadDeadline(time.Now().Add(ss.s.timeout())); err != nil {
		return "", err
	}
	b, err := ss.r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// reply sends lines, each with CRLF, and flushes.
func (ss *session) reply(lines ...string) error {
	for _, l := range lines {
		ss.w.WriteString(l)
		ss.w.WriteString("\r\n")
	}
	return ss.flush()
}

func (ss *session) flush() error {
	if err := ss.c.SetWriteDeadline(time.Now().Add(ss.s.timeout())); err != nil {
		return err
	}
	return ss.w.Flush()
}

func (ss *session) handle(verb, arg string) error {
	if verb == "QUIT" {
		if ss.authed && len(ss.deleted) > 0 {
			ss.s.expunge(ss.user, ss.deleted)
		}
		ss.reply("+OK bye")
		return errQuit
	}
	if verb == "CAPA" {
		return ss.capa()
	}
	if !ss.authed {
		return ss.authorization(verb, arg)
	}
	return ss.transaction(verb, arg)
}

func (ss *session) capa() error {
	caps := []string{"+OK capability list follows", "USER", "TOP", "RESP-CODES", "AUTH-RESP-CODE"}
	if !ss.s.NoUIDL {
		caps = append(caps, "UIDL")
	}
	if ss.s.TLSConfig != nil && !ss.tls && !ss.authed {
		caps = append(caps, "STLS")
	}
	return ss.reply(append(caps, "IMPLEMENTATION pop3d", ".")...)
}

func (ss *session) authorization(verb, arg string) error {
	switch verb {
	case "STLS":
		if ss.s.TLSConfig == nil || ss.tls {
			return ss.reply("-ERR STLS not available")
		}
		if ss.r.Buffered() > 0 {
			// Commands sent before the handshake would run as if they came
			// through TLS.
			return errors.New("data before TLS handshake")
		}
		if err := ss.reply("+OK begin TLS negotiation"); err != nil {
			return err
		}
		tc := tls.Server(ss.c, ss.s.TLSConfig)
		tc.SetDeadline(time.Now().Add(ss.s.timeout()))
		if err := tc.Handshake(); err != nil {
			return err
		}
		ss.c, ss.tls = tc, true
		ss.r, ss.w = bufio.NewReaderSize(tc, MaxLine), bufio.NewWriter(tc)
		ss.user = ""
		return nil
	case "USER":
		if arg == "" {
			return ss.reply("-ERR USER needs a name")
		}
		ss.user = arg
		return ss.reply("+OK send PASS")
	case "PASS":
		if ss.user == "" {
			return ss.reply("-ERR USER first")
		}
		msgs, ok := ss.s.login(ss.user, arg)
		if !ok {
			ss.user = ""
			ss.fails++
			if ss.fails >= 3 {
				ss.reply("-ERR [AUTH] invalid user name or password; goodbye")
				return errQuit
			}
			return ss.reply("-ERR [AUTH] invalid user name or password")
		}
		ss.authed, ss.msgs, ss.deleted = true, msgs, map[*message]bool{}
		return ss.reply(fmt.Sprintf("+OK %d messages", len(msgs)))
	}
	return ss.reply("-ERR unknown command or not allowed before login")
}

func (ss *session) transaction(verb, arg string) error {
	args := strings.Fields(arg)
	switch verb {
	case "NOOP":
		return ss.reply("+OK")
	case "RSET":
		clear(ss.deleted)
		return ss.reply(fmt.Sprintf("+OK %d messages", len(ss.msgs)))
	case "STAT":
		n, size := 0, 0
		for _, m := range ss.msgs {
			if !ss.deleted[m] {
				n++
				size += len(m.data)
			}
		}
		return ss.reply(fmt.Sprintf("+OK %d %d", n, size))
	case "LIST", "UIDL":
		if verb == "UIDL" && ss.s.NoUIDL {
			return ss.reply("-ERR UIDL not supported")
		}
		item := func(i int, m *message) string {
			if verb == "UIDL" {
				return fmt.Sprintf("%d %s", i+1, m.uidl)
			}
			return fmt.Sprintf("%d %d", i+1, len(m.data))
		}
		if len(args) > 0 {
			i, m, err := ss.message(args[0])
			if err != nil {
				return ss.reply("-ERR " + err.Error())
			}
			return ss.reply("+OK " + item(i, m))
		}
		ss.w.WriteString("+OK\r\n")
		for i, m := range ss.msgs {
			if !ss.deleted[m] {
				ss.w.WriteString(item(i, m) + "\r\n")
			}
		}
		ss.w.WriteString(".\r\n")
		return ss.flush()
	case "TOP", "RETR":
		want := 2
		if verb == "RETR" {
			want = 1
		}
		if len(args) != want {
			return ss.reply(fmt.Sprintf("-ERR %s needs %d arguments", verb, want))
		}
		_, m, err := ss.message(args[0])
		if err != nil {
			return ss.reply("-ERR " + err.Error())
		}
		body := -1
		if verb == "TOP" {
			if body, err = strconv.Atoi(args[1]); err != nil || body < 0 {
				return ss.reply("-ERR bad line count")
			}
		}
		ss.w.WriteString("+OK\r\n")
		writeMessage(ss.w, m.data, body)
		return ss.flush()
	case "DELE":
		_, m, err := ss.message(arg)
		if err != nil {
			return ss.reply("-ERR " + err.Error())
		}
		ss.deleted[m] = true
		return ss.reply("+OK marked deleted")
	}
	return ss.reply("-ERR unknown command")
}

// message finds message number arg (1-based) among those not deleted.
func (ss *session) message(arg string) (int, *message, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > len(ss.msgs) {
		return 0, nil, errors.New("no such message")
	}
	m := ss.msgs[n-1]
	if ss.deleted[m] {
		return 0, nil, errors.New("message is deleted")
	}
	return n - 1, m, nil
}

// writeMessage writes the header of data and body lines of its body (all of
// it when body < 0), dot-stuffed, and the terminating ".".
func writeMessage(w *bufio.Writer, data []byte, body int) {
	inBody := false
	for len(data) > 0 {
		i := bytes.Index(data, []byte("\r\n"))
		line := data[:i]
		data = data[i+2:]
		if inBody {
			if body == 0 {
				break
			}
			if body > 0 {
				body--
			}
		}
		if len(line) > 0 && line[0] == '.' {
			w.WriteByte('.')
		}
		w.Write(line)
		w.WriteString("\r\n")
		if len(line) == 0 && !inBody {
			inBody = true
		}
	}
	w.WriteString(".\r\n")
}

func equalConstantTime(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
