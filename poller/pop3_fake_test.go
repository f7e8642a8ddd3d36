package poller

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// The tests in this file play the server from a script, as Go's
// net/smtp/smtp_test.go does: the client reads the script, and every byte it
// writes is compared with what it should have sent.

const pop3FakePassword = "s3cret-pw"

// pop3Fake is a net.Conn whose reads come from a script and whose writes are
// recorded.
type pop3Fake struct {
	r  io.Reader
	mu sync.Mutex
	w  bytes.Buffer
}

func (f *pop3Fake) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *pop3Fake) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w.Write(p)
}
func (f *pop3Fake) written() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w.String()
}
func (f *pop3Fake) Close() error                     { return nil }
func (f *pop3Fake) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (f *pop3Fake) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 110} }
func (f *pop3Fake) SetDeadline(time.Time) error      { return nil }
func (f *pop3Fake) SetReadDeadline(time.Time) error  { return nil }
func (f *pop3Fake) SetWriteDeadline(time.Time) error { return nil }

// pop3Endless repeats pat forever.
type pop3Endless struct {
	pat []byte
	off int
}

func (e *pop3Endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.pat[e.off%len(e.pat)]
		e.off++
	}
	return len(p), nil
}

func pop3FakeAccount(sec accounts.Security) accounts.Account {
	return accounts.Account{Name: "fake", Protocol: accounts.POP3, Host: "pop.example.com", Port: 110, Security: sec, Username: "alice"}
}

func pop3FakeOptions(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *Options {
	return &Options{
		Password: func(context.Context) (string, error) { return pop3FakePassword, nil },
		Timeout:  time.Second,
		Dial:     dial,
	}
}

// pop3RunFake checks an account against a server that says script, and returns
// what the client wrote.
func pop3RunFake(t *testing.T, sec accounts.Security, script io.Reader, q Query, tune ...func(*pop3Checker)) (*Inbox, string, error) {
	t.Helper()
	f := &pop3Fake{r: script}
	c := NewPOP3(pop3FakeAccount(sec), pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) { return f, nil })).(*pop3Checker)
	c.noCAPA = true // these scripts predate CAPA; pop3_logindelay_test.go covers it
	for _, fn := range tune {
		fn(c)
	}
	in, err := c.Check(context.Background(), q)
	return in, f.written(), err
}

func pop3WantIDs(ids ...string) func(string) bool {
	return func(id string) bool {
		for _, w := range ids {
			if id == w {
				return true
			}
		}
		return false
	}
}

func pop3WantKind(t *testing.T, err error, kind ErrorKind, msg string) {
	t.Helper()
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want a *CheckError of kind %s", err, err, kind)
	}
	if ce.Kind != kind || !strings.Contains(ce.Error(), msg) {
		t.Fatalf("error %q of kind %s, want kind %s containing %q", ce.Error(), ce.Kind, kind, msg)
	}
	if strings.Contains(ce.Error(), pop3FakePassword) {
		t.Fatalf("error %q contains the password", ce.Error())
	}
}

const pop3Login = "USER alice\r\nPASS " + pop3FakePassword + "\r\n"

func pop3Hdr(from, subject, date, mid string) string {
	return fmt.Sprintf("From: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n\r\n", from, subject, date, mid)
}

func TestPOP3FakeCheck(t *testing.T) {
	script := "+OK hello\r\n+OK\r\n+OK logged in\r\n" +
		"+OK\r\n1 aaa\r\n2 bbb\r\n3 ccc\r\n.\r\n" +
		"+OK\r\n" + pop3Hdr("=?ISO-8859-1?Q?Andr=E9?= <andre@example.com>", "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Mon, 02 Jan 2006 15:04:05 -0700", "<c@x>") + ".\r\n" +
		"+OK\r\n" + pop3Hdr("bare@example.com", "plain\r\n folded", "garbage date", "<a@x>") + "..\r\n.\r\n" +
		"+OK bye\r\n"
	in, wrote, err := pop3RunFake(t, accounts.None, strings.NewReader(script), Query{Want: pop3WantIDs("ccc", "aaa")})
	if err != nil {
		t.Fatal(err)
	}
	if want := pop3Login + "UIDL\r\nTOP 3 0\r\nTOP 1 0\r\nQUIT\r\n"; wrote != want {
		t.Fatalf("client wrote\n%q\nwant\n%q", wrote, want)
	}
	if strings.Join(in.IDs, ",") != "aaa,bbb,ccc" || in.Messages != 3 || in.Unread != -1 {
		t.Errorf("inbox %+v", in)
	}
	c := in.Mails["ccc"]
	if c.From != "André" || c.Subject != "Grüße aus Köln" || c.MessageID != "<c@x>" || c.Folder != "INBOX" ||
		!c.Date.Equal(time.Date(2006, 1, 2, 22, 4, 5, 0, time.UTC)) || c.ID != "ccc" {
		t.Errorf("mail ccc %+v", c)
	}
	a := in.Mails["aaa"]
	if a.From != "bare@example.com" || a.Subject != "plain folded" || !a.Date.IsZero() {
		t.Errorf("mail aaa %+v", a)
	}
	if len(in.Mails) != 2 {
		t.Errorf("%d mails, want 2", len(in.Mails))
	}
}

func TestPOP3FakeWantCapAndNil(t *testing.T) {
	var uidl, tops, wantTops strings.Builder
	uidl.WriteString("+OK\r\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&uidl, "%d u%d\r\n", i, i)
	}
	uidl.WriteString(".\r\n")
	for i := 30; i > 30-MaxMails; i-- {
		fmt.Fprintf(&tops, "+OK\r\n%s.\r\n", pop3Hdr("x@y", fmt.Sprint("s", i), "", ""))
		fmt.Fprintf(&wantTops, "TOP %d 0\r\n", i)
	}
	script := "+OK\r\n+OK\r\n+OK\r\n" + uidl.String() + tops.String() + "+OK\r\n"
	in, wrote, err := pop3RunFake(t, accounts.None, strings.NewReader(script), Query{Want: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	if want := pop3Login + "UIDL\r\n" + wantTops.String() + "QUIT\r\n"; wrote != want {
		t.Errorf("client wrote\n%q\nwant\n%q", wrote, want)
	}
	if len(in.Mails) != MaxMails || in.Mails["u30"].Subject != "s30" || len(in.IDs) != 30 {
		t.Errorf("%d mails, %d ids; u30 %+v", len(in.Mails), len(in.IDs), in.Mails["u30"])
	}

	// No Want: no TOP at all.
	script = "+OK\r\n+OK\r\n+OK\r\n" + uidl.String() + "+OK\r\n"
	_, wrote, err = pop3RunFake(t, accounts.None, strings.NewReader(script), Query{})
	if err != nil || wrote != pop3Login+"UIDL\r\nQUIT\r\n" {
		t.Errorf("without Want: %v, wrote %q", err, wrote)
	}
}

func TestPOP3FakeTopRefused(t *testing.T) {
	script := "+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 a\r\n2 b\r\n.\r\n-ERR no such message\r\n+OK\r\n" + pop3Hdr("x@y", "one", "", "") + ".\r\n+OK\r\n"
	in, wrote, err := pop3RunFake(t, accounts.None, strings.NewReader(script), Query{Want: pop3WantIDs("a", "b")})
	if err != nil {
		t.Fatal(err)
	}
	if wrote != pop3Login+"UIDL\r\nTOP 2 0\r\nTOP 1 0\r\nQUIT\r\n" || len(in.Mails) != 1 || in.Mails["a"].Subject != "one" {
		t.Errorf("wrote %q, mails %+v", wrote, in.Mails)
	}
}

func TestPOP3FakeSTLSRefused(t *testing.T) {
	for _, tc := range []struct {
		name, script, wrote, msg string
	}{
		{"CAPA without STLS", "+OK hi\r\n+OK\r\nUSER\r\nUIDL\r\nSASL PLAIN\r\n.\r\n", "CAPA\r\n", "does not offer STLS"},
		{"no CAPA, STLS refused", "+OK hi\r\n-ERR what\r\n-ERR no\r\n", "CAPA\r\nSTLS\r\n", "does not offer STLS"},
		{"data before handshake", "+OK hi\r\n+OK\r\nSTLS\r\n.\r\n+OK go ahead\r\n+OK injected\r\n", "CAPA\r\nSTLS\r\n", "sent data before the TLS handshake"},
		{"greeting -ERR", "-ERR busy\r\n", "", "is this a POP3 server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, wrote, err := pop3RunFake(t, accounts.StartTLS, strings.NewReader(tc.script), Query{})
			kind := KindTLS
			if tc.name == "greeting -ERR" {
				kind = KindProtocol
			}
			pop3WantKind(t, err, kind, tc.msg)
			if wrote != tc.wrote || strings.Contains(wrote, "USER") || strings.Contains(wrote, "PASS") {
				t.Errorf("client wrote %q, want %q", wrote, tc.wrote)
			}
		})
	}
}

func TestPOP3FakeLoginRefused(t *testing.T) {
	for _, tc := range []struct{ name, script, wrote string }{
		{"PASS", "+OK\r\n+OK\r\n-ERR [AUTH] bad password " + pop3FakePassword + "\r\n", pop3Login},
		{"USER", "+OK\r\n-ERR unknown user\r\n", "USER alice\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, wrote, err := pop3RunFake(t, accounts.None, strings.NewReader(tc.script), Query{})
			pop3WantKind(t, err, KindAuth, "login refused by pop.example.com: check the password")
			if wrote != tc.wrote {
				t.Errorf("client wrote %q, want %q", wrote, tc.wrote)
			}
		})
	}
}

func TestPOP3FakeBadConfig(t *testing.T) {
	a := pop3FakeAccount(accounts.None)
	a.Username = "alice\r\nDELE 1"
	dialed := false
	c := NewPOP3(a, pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) {
		dialed = true
		return nil, errors.New("no")
	}))
	_, err := c.Check(context.Background(), Query{})
	pop3WantKind(t, err, KindConfig, "line break")
	if dialed {
		t.Error("dialed with a bad user name")
	}
	_, err = NewPOP3(pop3FakeAccount(accounts.None), nil).Check(context.Background(), Query{})
	pop3WantKind(t, err, KindConfig, "no password source")
}

func TestPOP3FakeMalformedUIDL(t *testing.T) {
	for name, body := range map[string]string{
		"missing uid":   "1 a\r\n2\r\n",
		"non-numeric":   "x a\r\n",
		"zero":          "0 a\r\n",
		"negative":      "-1 a\r\n",
		"plus":          "+1 a\r\n",
		"huge number":   "99999999999999999999 a\r\n",
		"too long uid":  "1 " + strings.Repeat("u", 71) + "\r\n",
		"duplicate uid": "1 a\r\n2 b\r\n3 a\r\n",
		"duplicate num": "1 a\r\n1 b\r\n",
		"control char":  "1 a\x01b\r\n",
		"three fields":  "1 a b\r\n",
		"empty line":    "1 a\r\n\r\n2 b\r\n",
		"8-bit uid":     "1 \xff\xfe\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			script := "+OK\r\n+OK\r\n+OK\r\n+OK\r\n" + body + ".\r\n"
			_, wrote, err := pop3RunFake(t, accounts.None, strings.NewReader(script), Query{Want: func(string) bool { return true }})
			pop3WantKind(t, err, KindProtocol, "malformed UIDL")
			if wrote != pop3Login+"UIDL\r\n" {
				t.Errorf("client wrote %q", wrote)
			}
		})
	}
}

func TestPOP3FakeNoUIDL(t *testing.T) {
	h1 := pop3Hdr("Ann <ann@example.com>", "one", "Mon, 02 Jan 2006 15:04:05 +0000", "<1@x>")
	h2 := pop3Hdr("Bob <bob@example.com>", "two", "Tue, 03 Jan 2006 15:04:05 +0000", "<2@x>")
	script := "+OK\r\n+OK\r\n+OK\r\n-ERR unknown command\r\n" +
		"+OK 3 messages\r\n1 120\r\n2 130\r\n3 120\r\n.\r\n" +
		"+OK\r\n" + h1 + ".\r\n+OK\r\n" + h2 + ".\r\n+OK\r\n" + h1 + ".\r\n+OK\r\n"
	in, wrote, err := pop3RunFake(t, accounts.None, strings.NewReader(script), Query{Want: func(id string) bool { return !strings.HasSuffix(id, "#2") }})
	if err != nil {
		t.Fatal(err)
	}
	if want := pop3Login + "UIDL\r\nLIST\r\nTOP 1 0\r\nTOP 2 0\r\nTOP 3 0\r\nQUIT\r\n"; wrote != want {
		t.Fatalf("client wrote\n%q\nwant\n%q", wrote, want)
	}
	hash := func(mid, date, from string) string {
		sum := sha256.Sum256([]byte(mid + "\n" + date + "\n" + from))
		return "h:" + hex.EncodeToString(sum[:16])
	}
	id1 := hash("<1@x>", "Mon, 02 Jan 2006 15:04:05 +0000", "Ann <ann@example.com>")
	id2 := hash("<2@x>", "Tue, 03 Jan 2006 15:04:05 +0000", "Bob <bob@example.com>")
	if got, want := strings.Join(in.IDs, ","), id1+","+id2+","+id1+"#2"; got != want {
		t.Errorf("ids %s, want %s", got, want)
	}
	if len(in.Mails) != 2 || in.Mails[id2].Subject != "two" || in.Mails[id1].From != "Ann" || in.Messages != 3 {
		t.Errorf("mails %+v", in.Mails)
	}

	// Neither UIDL nor TOP: nothing to tell messages apart by.
	script = "+OK\r\n+OK\r\n+OK\r\n-ERR no\r\n+OK\r\n1 10\r\n.\r\n-ERR no\r\n"
	_, _, err = pop3RunFake(t, accounts.None, strings.NewReader(script), Query{})
	pop3WantKind(t, err, KindProtocol, "neither UIDL nor TOP")
}

func TestPOP3FakeGarbage(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 1<<20)
	for i := range garbage {
		garbage[i] = byte(rnd.IntN(256))
	}
	noNewline := bytes.ReplaceAll(garbage, []byte("\n"), []byte("x"))
	for _, tc := range []struct {
		name   string
		script io.Reader
		msg    string
	}{
		{"binary greeting", bytes.NewReader(garbage), "did not answer greeting like a POP3 server"},
		{"binary without line breaks", bytes.NewReader(noNewline), "line longer than 64 KiB"},
		{"unknown reply to UIDL", strings.NewReader("+OK\r\n+OK\r\n+OK\r\nHELLO\r\n"), "did not answer UIDL like a POP3 server"},
		{"binary UIDL", io.MultiReader(strings.NewReader("+OK\r\n+OK\r\n+OK\r\n+OK\r\n"), bytes.NewReader(garbage), strings.NewReader("\r\n.\r\n")), "malformed UIDL"},
		{"server closes", strings.NewReader("+OK\r\n+OK\r\n"), "closed the connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := pop3RunFake(t, accounts.None, tc.script, Query{Want: func(string) bool { return true }})
			kind := KindProtocol
			if tc.name == "server closes" {
				kind = KindNetwork
			}
			pop3WantKind(t, err, kind, tc.msg)
		})
	}
	for _, sec := range []accounts.Security{accounts.StartTLS, accounts.None} {
		_, _, err := pop3RunFake(t, sec, bytes.NewReader(noNewline), Query{})
		pop3WantKind(t, err, KindProtocol, "line longer than 64 KiB")
	}
}

// pop3Allocated runs f and returns how many bytes it allocated.
func pop3Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestPOP3FakeHugeLines(t *testing.T) {
	tenMB := func(prefix string) io.Reader {
		return io.MultiReader(strings.NewReader(prefix), io.LimitReader(&pop3Endless{pat: []byte("A")}, 10<<20), strings.NewReader("\r\n.\r\n"))
	}
	for _, tc := range []struct {
		name   string
		sec    accounts.Security
		script io.Reader
	}{
		{"greeting", accounts.None, tenMB("+OK ")},
		{"greeting before STLS", accounts.StartTLS, tenMB("+OK ")},
		{"CAPA", accounts.StartTLS, tenMB("+OK\r\n+OK\r\n")},
		{"UIDL line", accounts.None, tenMB("+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 a\r\n2 ")},
		{"TOP header", accounts.None, tenMB("+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 a\r\n.\r\n+OK\r\nSubject: ")},
		{"endless line", accounts.None, io.MultiReader(strings.NewReader("+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 "), &pop3Endless{pat: []byte("\x00\xff")})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := pop3Allocated(func() {
				_, _, err = pop3RunFake(t, tc.sec, tc.script, Query{Want: func(string) bool { return true }})
			})
			pop3WantKind(t, err, KindProtocol, "line longer than 64 KiB")
			if n > 8<<20 {
				t.Errorf("allocated %d MiB for a check", n>>20)
			}
		})
	}
}

func TestPOP3FakeEndlessReplies(t *testing.T) {
	small := func(c *pop3Checker) { c.lim.listing, c.lim.reply = 1<<20, 256<<10 }
	for _, tc := range []struct {
		name   string
		script io.Reader
		tune   func(*pop3Checker)
		msg    string
	}{
		{"UIDL", io.MultiReader(strings.NewReader("+OK\r\n+OK\r\n+OK\r\n+OK\r\n"), &pop3Endless{pat: []byte("1 a\r\n")}), small, "reply longer than 1 MiB"},
		{"CAPA", io.MultiReader(strings.NewReader("+OK\r\n+OK\r\n"), &pop3Endless{pat: []byte("SASL PLAIN\r\n")}), small, "reply longer than 256 KiB"},
		{"TOP", io.MultiReader(strings.NewReader("+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 a\r\n.\r\n+OK\r\n"), &pop3Endless{pat: []byte("X-Spam: yes\r\n")}), small, "reply longer than 256 KiB"},
		{"session", io.MultiReader(strings.NewReader("+OK\r\n+OK\r\n+OK\r\n+OK\r\n"), &pop3Endless{pat: []byte("1 a\r\n")}),
			func(c *pop3Checker) { c.lim.session = 64 << 10 }, "more than 64 KiB in one session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := accounts.None
			if tc.name == "CAPA" {
				sec = accounts.StartTLS
			}
			var err error
			n := pop3Allocated(func() {
				_, _, err = pop3RunFake(t, sec, tc.script, Query{Want: func(string) bool { return true }}, tc.tune)
			})
			pop3WantKind(t, err, KindProtocol, tc.msg)
			if n > 16<<20 {
				t.Errorf("allocated %d MiB for a check", n>>20)
			}
		})
	}
}

// pop3PipeServer plays a server over net.Pipe, for the hangs: it sends the
// greeting, answers the client's lines with replies in order, then reads
// on without answering until the client gives up.
func pop3PipeServer(t *testing.T, greeting string, replies ...string) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		done := make(chan struct{})
		t.Cleanup(func() { server.Close(); <-done })
		go func() {
			defer close(done)
			if greeting != "" {
				if _, err := server.Write([]byte(greeting)); err != nil {
					return
				}
			}
			r := bufio.NewReader(server)
			for i := 0; ; i++ {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
				if i < len(replies) {
					if _, err := server.Write([]byte(replies[i])); err != nil {
						return
					}
				}
			}
		}()
		return client, nil
	}
}

func TestPOP3FakeHangs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		sec      accounts.Security
		greeting string
		replies  []string
	}{
		{"at greeting", accounts.None, "", nil},
		{"at greeting before STLS", accounts.StartTLS, "", nil},
		{"at CAPA", accounts.StartTLS, "+OK\r\n", nil},
		{"at CAPA after the greeting", accounts.None, "+OK\r\n", []string{"+OK\r\n"}},
		{"after login", accounts.None, "+OK\r\n", []string{"-ERR\r\n", "+OK\r\n", "+OK\r\n"}},
		{"mid-UIDL", accounts.None, "+OK\r\n", []string{"-ERR\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n1 a\r\n2 b"}},
		{"at TOP", accounts.None, "+OK\r\n", []string{"-ERR\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n1 a\r\n.\r\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pop3FakeOptions(pop3PipeServer(t, tc.greeting, tc.replies...))
			o.Timeout = 200 * time.Millisecond
			start := time.Now()
			_, err := NewPOP3(pop3FakeAccount(tc.sec), o).Check(context.Background(), Query{Want: func(string) bool { return true }})
			pop3WantKind(t, err, KindNetwork, "did not answer in time")
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s with a 200ms timeout", d)
			}
		})
	}
}

func TestPOP3FakeCancel(t *testing.T) {
	// The server answers the login, then sits on UIDL: only cancellation
	// can end the check before the one-minute timeout.
	atUIDL := make(chan struct{})
	dial := func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		done := make(chan struct{})
		t.Cleanup(func() { server.Close(); <-done })
		go func() {
			defer close(done)
			server.Write([]byte("+OK\r\n"))
			r := bufio.NewReader(server)
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == "UIDL\r\n" {
					close(atUIDL)
					continue
				}
				if l == "CAPA\r\n" {
					server.Write([]byte("-ERR\r\n"))
					continue
				}
				server.Write([]byte("+OK\r\n"))
			}
		}()
		return client, nil
	}
	o := pop3FakeOptions(dial)
	o.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := NewPOP3(pop3FakeAccount(accounts.None), o).Check(ctx, Query{})
		done <- err
	}()
	select {
	case <-atUIDL:
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not send UIDL")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Check did not return after cancel")
	}
}

func TestPOP3Wait(t *testing.T) {
	c := NewPOP3(pop3FakeAccount(accounts.TLS), nil)
	defer c.Close()
	if err := c.Wait(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Wait(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after cancel: %v", err)
	}
}

func TestParseUIDL(t *testing.T) {
	got, err := parseUIDL([]byte("1 000000016b075be9\r\n2 x\r\n10 " + strings.Repeat("~", 70) + " \r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != (pop3Msg{1, "000000016b075be9"}) || got[2].Num != 10 {
		t.Errorf("%+v", got)
	}
	if got, err := parseUIDL(nil); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
}

func FuzzParseUIDL(f *testing.F) {
	for _, s := range []string{
		"", "1 a\r\n", "1 a\r\n2 b\r\n", "1\r\n", "x y\r\n", "0 a\r\n", "1 a\r\n1 b\r\n", "1 a\r\n2 a\r\n",
		"1 " + strings.Repeat("u", 71) + "\r\n", "1 a b\r\n", "\r\n", "1  a\r\n", "1 \xff\r\n", "-1 a", "999999999 z",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := parseUIDL(b)
		if err != nil {
			return
		}
		uids, nums := map[string]bool{}, map[int]bool{}
		for _, m := range msgs {
			if m.Num < 1 || len(m.UID) < 1 || len(m.UID) > 70 || uids[m.UID] || nums[m.Num] {
				t.Fatalf("accepted %+v in %q", m, b)
			}
			for _, c := range []byte(m.UID) {
				if c < 0x21 || c > 0x7e {
					t.Fatalf("accepted uid %q", m.UID)
				}
			}
			uids[m.UID], nums[m.Num] = true, true
		}
	})
}
