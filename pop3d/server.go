// Package pop3d is a small POP3 server (RFC 1939 with CAPA, UIDL, TOP and
// STLS) over in-memory maildrops, for the demo and for fast tests. It is not
// meant to face the internet: passwords are kept in memory in clear.
package pop3d

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultTimeout bounds every read and write of a connection when
// Server.Timeout is 0: RFC 1939's minimum autologout time.
const DefaultTimeout = 10 * time.Minute

// MaxLine is the longest command line the server reads, CRLF included
// (RFC 2449 allows 255 octets); a longer one ends the connection.
const MaxLine = 1024

// ErrServerClosed is what Serve returns after Close.
var ErrServerClosed = errors.New("pop3d: server closed")

// Server serves POP3 from in-memory maildrops. Set its fields before the
// first Serve; its methods are safe for concurrent use.
type Server struct {
	// TLSConfig, when set, makes the server offer STLS (RFC 2595). For
	// implicit TLS (POP3S) hand Serve a tls.NewListener instead.
	TLSConfig *tls.Config
	// Timeout bounds every read and write of a connection; 0 means DefaultTimeout.
	Timeout time.Duration
	// NoUIDL makes UIDL answer -ERR, as on servers without the optional command.
	NoUIDL bool
	// OnCommand, if set, is called from the connections' goroutines with the
	// user (empty before login) and the verb of every command received, never
	// its arguments. It must not block.
	OnCommand func(user, verb string)

	mu     sync.Mutex
	users  map[string]*maildrop
	seq    uint64
	epoch  int64
	lns    map[net.Listener]struct{}
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

type maildrop struct {
	password string
	msgs     []*message
}

// message is immutable once delivered; sessions share it.
type message struct {
	uidl string
	data []byte // CRLF line breaks, ending in CRLF
}

// init fills in the zero value; s.mu must be held.
func (s *Server) init() {
	if s.users == nil {
		s.users = make(map[string]*maildrop)
		s.lns = make(map[net.Listener]struct{})
		s.conns = make(map[net.Conn]struct{})
		// UIDLs must not repeat when the demo restarts with a new server.
		s.epoch = time.Now().Unix()
	}
}

// AddUser creates user with an empty maildrop, or sets the password of an
// existing one.
func (s *Server) AddUser(name, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if u, ok := s.users[name]; ok {
		u.password = password
		return
	}
	s.users[name] = &maildrop{password: password}
}

// Deliver appends the message raw (RFC 5322; LF or CRLF line breaks) to
// user's maildrop and returns its UIDL, or "" if there is no such user.
// Sessions already logged in do not see it (RFC 1939 section 8).
func (s *Server) Deliver(user string, raw []byte) (uidl string) {
	data := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		data = append(data, '\r', '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	u, ok := s.users[user]
	if !ok {
		return ""
	}
	s.seq++
	m := &message{uidl: fmt.Sprintf("%x.%d", s.epoch, s.seq), data: data}
	u.msgs = append(u.msgs, m)
	return m.uidl
}

// Delete removes the message uidl from user's maildrop and reports whether
// it was there. Sessions already logged in still see it.
func (s *Server) Delete(user, uidl string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[user]
	if !ok {
		return false
	}
	for i, m := range u.msgs {
		if m.uidl == uidl {
			u.msgs = append(u.msgs[:i:i], u.msgs[i+1:]...)
			return true
		}
	}
	return false
}

// UIDLs lists the UIDLs in user's maildrop, oldest first.
func (s *Server) UIDLs(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if u, ok := s.users[user]; ok {
		for _, m := range u.msgs {
			out = append(out, m.uidl)
		}
	}
	return out
}

// login checks a password and returns a snapshot of the maildrop.
func (s *Server) login(user, password string) ([]*message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[user]
	if !ok || !equalConstantTime(u.password, password) {
		return nil, false
	}
	return append([]*message(nil), u.msgs...), true
}

// expunge removes the messages a session marked deleted (its UPDATE state).
func (s *Server) expunge(user string, gone map[*message]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[user]
	if !ok {
		return
	}
	kept := u.msgs[:0:0]
	for _, m := range u.msgs {
		if !gone[m] {
			kept = append(kept, m)
		}
	}
	u.msgs = kept
}

// Serve accepts connections on ln and serves each in its own goroutine
// until Close, when it returns ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.init()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			newSession(s, c).serve()
		}()
	}
}

// Close stops every Serve, closes every connection and waits for their
// goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	s.init()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}
