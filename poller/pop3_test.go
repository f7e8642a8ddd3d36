package poller

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/pop3d"
)

// The tests in this file run the POP3 checker against real servers: a
// throwaway Dovecot, and pop3d.

func pop3Account(host string, port int, sec accounts.Security, user string) accounts.Account {
	return accounts.Account{Name: "test", Protocol: accounts.POP3, Host: host, Port: port, Security: sec, Username: user}
}

func pop3Options(password string, roots *x509.CertPool) *Options {
	return &Options{
		Password: func(context.Context) (string, error) { return password, nil },
		RootCAs:  roots,
		Timeout:  10 * time.Second,
	}
}

func pop3MustCheck(t *testing.T, c Checker, q Query) *Inbox {
	t.Helper()
	in, err := c.Check(context.Background(), q)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return in
}

func pop3All(string) bool { return true }

// pop3MaildirNames lists the messages of a Maildir by their unique names: the
// file names in new/ and cur/ without the ":2,FLAGS" suffix, sorted.
func pop3MaildirNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	for _, sub := range []string{"new", "cur"} {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			name, _, _ := strings.Cut(e.Name(), ":")
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// pop3MaildirFiles lists the paths of the messages in a Maildir.
func pop3MaildirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, sub := range []string{"new", "cur"} {
		m, err := filepath.Glob(filepath.Join(dir, sub, "*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

func TestPOP3Dovecot(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	user, pass := d.AddUser(t)
	d.Deliver(t, user, testenv.Message("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.com>", "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "one"))
	d.Deliver(t, user, testenv.Message("bare@example.com", "second mail", "two"))
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "third mail", "three"))
	before := pop3MaildirNames(t, d.Maildir(user))
	if len(before) != 3 {
		t.Fatalf("maildir holds %d messages, want 3", len(before))
	}

	ids := pop3MustCheck(t, NewPOP3(pop3Account("127.0.0.1", d.POP3S, accounts.TLS, user), pop3Options(pass, d.RootCAs)), Query{}).IDs
	for _, tc := range []struct {
		name string
		sec  accounts.Security
		port int
		opt  func(*Options, *accounts.Account)
	}{
		{"POP3S", accounts.TLS, d.POP3S, nil},
		{"STLS with RootCAs", accounts.StartTLS, d.POP3, nil},
		{"STLS with ca_file", accounts.StartTLS, d.POP3, func(o *Options, a *accounts.Account) { o.RootCAs = nil; a.CAFile = d.CAFile }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, o := pop3Account("127.0.0.1", tc.port, tc.sec, user), pop3Options(pass, d.RootCAs)
			if tc.opt != nil {
				tc.opt(o, &a)
			}
			c := NewPOP3(a, o)
			in := pop3MustCheck(t, c, Query{Want: pop3All})
			if len(in.IDs) != 3 || in.Messages != 3 || in.Unread != -1 || len(in.Mails) != 3 {
				t.Fatalf("inbox %+v", in)
			}
			if !slices.Equal(ids, in.IDs) {
				t.Errorf("ids changed between sessions: %q, then %q", ids, in.IDs)
			}
			m := in.Mails[in.IDs[0]]
			if m.From != "Jürgen Müller" || m.Subject != "Grüße aus Köln" || m.Folder != "INBOX" || m.Date.IsZero() || !strings.HasPrefix(m.MessageID, "<") {
				t.Errorf("first mail %+v", m)
			}
			if m := in.Mails[in.IDs[1]]; m.From != "bare@example.com" || m.Subject != "second mail" {
				t.Errorf("second mail %+v", m)
			}
			if c.(*pop3Checker).received == 0 {
				t.Error("no bytes counted")
			}
		})
	}
	if t.Failed() {
		return
	}

	t.Run("only wanted", func(t *testing.T) {
		in := pop3MustCheck(t, NewPOP3(pop3Account("127.0.0.1", d.POP3S, accounts.TLS, user), pop3Options(pass, d.RootCAs)), Query{Want: pop3WantIDs(ids[2])})
		if len(in.Mails) != 1 || in.Mails[ids[2]].Subject != "third mail" {
			t.Errorf("mails %+v", in.Mails)
		}
	})

	t.Run("wrong host name", func(t *testing.T) {
		for _, sec := range []accounts.Security{accounts.TLS, accounts.StartTLS} {
			port := d.POP3S
			if sec == accounts.StartTLS {
				port = d.POP3
			}
			o := pop3Options(pass, d.RootCAs)
			o.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, d.Addr(port))
			}
			_, err := NewPOP3(pop3Account("mail.example.com", port, sec, user), o).Check(context.Background(), Query{})
			pop3WantKindOf(t, err, KindTLS, "is for another name")
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		_, err := NewPOP3(pop3Account("127.0.0.1", d.POP3S, accounts.TLS, user), pop3Options(pass, x509.NewCertPool())).Check(context.Background(), Query{})
		pop3WantKindOf(t, err, KindTLS, "set ca_file")
	})

	// Nothing above changed the mailbox.
	if after := pop3MaildirNames(t, d.Maildir(user)); !slices.Equal(before, after) {
		t.Fatalf("maildir changed:\nbefore %q\nafter  %q", before, after)
	}

	var removed string // the Maildir name of the second mail, once removed
	t.Run("new and deleted mail", func(t *testing.T) {
		c := NewPOP3(pop3Account("127.0.0.1", d.POP3, accounts.StartTLS, user), pop3Options(pass, d.RootCAs))
		// Remove the second message behind the server's back, as another
		// client would. It is found by its content: Maildir names do not
		// sort in delivery order (the microseconds are not zero-padded).
		var second []string
		for _, f := range pop3MaildirFiles(t, d.Maildir(user)) {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "Subject: second mail") {
				second = append(second, f)
			}
		}
		if len(second) != 1 {
			t.Fatalf("files of the second mail: %q", second)
		}
		if err := os.Remove(second[0]); err != nil {
			t.Fatal(err)
		}
		removed, _, _ = strings.Cut(filepath.Base(second[0]), ":")
		d.Deliver(t, user, testenv.Message("Dan <dan@example.com>", "fourth mail", "four"))
		in := pop3MustCheck(t, c, Query{Want: func(id string) bool { return !slices.Contains(ids, id) }})
		if len(in.IDs) != 3 || in.IDs[0] != ids[0] || in.IDs[1] != ids[2] || slices.Contains(in.IDs, ids[1]) {
			t.Fatalf("ids %q, were %q", in.IDs, ids)
		}
		if len(in.Mails) != 1 || in.Mails[in.IDs[2]].Subject != "fourth mail" {
			t.Errorf("mails %+v", in.Mails)
		}
		// Checks go on with the same checker: one session each.
		if in := pop3MustCheck(t, c, Query{}); len(in.IDs) != 3 {
			t.Errorf("second check: %q", in.IDs)
		}
	})

	// Last: Dovecot slows down logins from an address after a failed one.
	t.Run("wrong password", func(t *testing.T) {
		_, err := NewPOP3(pop3Account("127.0.0.1", d.POP3S, accounts.TLS, user), pop3Options("wrong", d.RootCAs)).Check(context.Background(), Query{})
		pop3WantKindOf(t, err, KindAuth, "login refused by 127.0.0.1: check the password")
	})

	// The checks deleted nothing: only the message removed by hand is gone.
	after := pop3MaildirNames(t, d.Maildir(user))
	// before is sorted by name, not by delivery: compare with the name removed.
	kept := slices.DeleteFunc(slices.Clone(before), func(n string) bool { return n == removed })
	if len(after) != 3 || len(kept) != 2 || !slices.Contains(after, kept[0]) || !slices.Contains(after, kept[1]) || slices.Contains(after, removed) {
		t.Errorf("maildir %q, was %q", after, before)
	}
}

func pop3WantKindOf(t *testing.T, err error, kind ErrorKind, msg string) {
	t.Helper()
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Kind != kind || !strings.Contains(ce.Error(), msg) {
		t.Fatalf("error %v, want kind %s containing %q", err, kind, msg)
	}
}

// pop3TestCert makes a certificate for 127.0.0.1 and a pool that trusts it.
func pop3TestCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	c := testenv.SelfSigned(t, time.Time{}, time.Time{})
	return c.Server, c.Pool
}

// pop3StartServer serves s on 127.0.0.1 (with TLS if implicit is set) and
// returns the port.
func pop3StartServer(t *testing.T, s *pop3d.Server, implicit *tls.Config) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if implicit != nil {
		ln = tls.NewListener(ln, implicit)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() { s.Close(); <-done })
	return port
}

func TestPOP3Server(t *testing.T) {
	cfg, pool := pop3TestCert(t)
	var mu sync.Mutex
	verbs := map[string]int{}
	s := &pop3d.Server{TLSConfig: cfg, OnCommand: func(_, verb string) {
		mu.Lock()
		verbs[verb]++
		mu.Unlock()
	}}
	s.AddUser("carol", "pw")
	u1 := s.Deliver("carol", testenv.Message("=?ISO-8859-1?Q?Andr=E9?= <andre@example.com>", "=?UTF-8?Q?caf=C3=A9?=", "x"))
	u2 := s.Deliver("carol", testenv.Message("Bob <bob@example.com>", "hello", "y\n.\n.."))
	stls := pop3StartServer(t, s, nil)
	implicit := pop3StartServer(t, s, cfg)

	for _, tc := range []struct {
		sec  accounts.Security
		port int
	}{{accounts.StartTLS, stls}, {accounts.TLS, implicit}} {
		c := NewPOP3(pop3Account("127.0.0.1", tc.port, tc.sec, "carol"), pop3Options("pw", pool))
		in := pop3MustCheck(t, c, Query{Want: pop3All})
		if !slices.Equal(in.IDs, []string{u1, u2}) || len(in.Mails) != 2 {
			t.Fatalf("%s: inbox %+v", tc.sec, in)
		}
		if m := in.Mails[u1]; m.From != "André" || m.Subject != "café" {
			t.Errorf("%s: mail %+v", tc.sec, m)
		}
	}

	s.Delete("carol", u1)
	u3 := s.Deliver("carol", testenv.Message("Eve <eve@example.com>", "three", "z"))
	in := pop3MustCheck(t, NewPOP3(pop3Account("127.0.0.1", stls, accounts.StartTLS, "carol"), pop3Options("pw", pool)), Query{Want: pop3WantIDs(u3)})
	if !slices.Equal(in.IDs, []string{u2, u3}) || len(in.Mails) != 1 || in.Mails[u3].From != "Eve" {
		t.Errorf("after delete and deliver: %+v", in)
	}

	_, err := NewPOP3(pop3Account("127.0.0.1", stls, accounts.StartTLS, "carol"), pop3Options("nope", pool)).Check(context.Background(), Query{})
	pop3WantKindOf(t, err, KindAuth, "login refused")

	// Plain text to a server that offers no STLS: refused before USER.
	plain := &pop3d.Server{OnCommand: func(_, verb string) {
		mu.Lock()
		verbs["plain:"+verb]++
		mu.Unlock()
	}}
	plain.AddUser("carol", "pw")
	_, err = NewPOP3(pop3Account("127.0.0.1", pop3StartServer(t, plain, nil), accounts.StartTLS, "carol"), pop3Options("pw", pool)).Check(context.Background(), Query{})
	pop3WantKindOf(t, err, KindTLS, "does not offer STLS")

	mu.Lock()
	defer mu.Unlock()
	for v := range verbs {
		switch v {
		case "CAPA", "STLS", "USER", "PASS", "UIDL", "TOP", "QUIT", "plain:CAPA":
		default:
			t.Errorf("the client sent %s (%d times)", v, verbs[v])
		}
	}
	if verbs["TOP"] != 5 {
		t.Errorf("%d TOPs, want 5", verbs["TOP"])
	}
}

func TestPOP3ServerWithoutUIDL(t *testing.T) {
	s := &pop3d.Server{NoUIDL: true}
	s.AddUser("dave", "pw")
	s.Deliver("dave", testenv.Message("A <a@example.com>", "one", "1"))
	s.Deliver("dave", testenv.Message("B <b@example.com>", "two", "2"))
	a := pop3Account("127.0.0.1", pop3StartServer(t, s, nil), accounts.None, "dave")
	c := NewPOP3(a, pop3Options("pw", nil))
	first := pop3MustCheck(t, c, Query{Want: pop3All})
	if len(first.IDs) != 2 || !strings.HasPrefix(first.IDs[0], "h:") || len(first.IDs[0]) != 34 || first.Mails[first.IDs[1]].Subject != "two" {
		t.Fatalf("inbox %+v", first)
	}
	// Ids from headers are stable across sessions.
	if again := pop3MustCheck(t, c, Query{}); !slices.Equal(first.IDs, again.IDs) {
		t.Errorf("ids %q, then %q", first.IDs, again.IDs)
	}
}
