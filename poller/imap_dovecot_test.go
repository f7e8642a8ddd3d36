package poller

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

// imapDovecot is a fresh Dovecot user and a checker's options for it.
type imapDovecot struct {
	d          *testenv.Dovecot
	user, pass string
	logs       *testenv.LogBuffer
}

func newIMAPDovecot(t *testing.T) *imapDovecot {
	t.Helper()
	d := testenv.StartDovecot(t)
	user, pass := d.AddUser(t)
	return &imapDovecot{d: d, user: user, pass: pass, logs: &testenv.LogBuffer{}}
}

func (x *imapDovecot) account(sec accounts.Security) accounts.Account {
	port := x.d.IMAP
	if sec == accounts.TLS {
		port = x.d.IMAPS
	}
	return accounts.Account{Name: "dovecot", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: port,
		Security: sec, Username: x.user, Folders: []string{"INBOX"}}
}

func (x *imapDovecot) options(rec *imapRecorder) *Options {
	o := imapOptions(rec, x.pass)
	o.RootCAs = x.d.RootCAs
	o.Logger = slog.New(slog.NewTextHandler(x.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return o
}

// markSeen sets \Seen on the message with subject from another IMAP
// session, as readElsewhere does on any server.
func (x *imapDovecot) markSeen(t *testing.T, subject string) {
	t.Helper()
	readElsewhere(t, dovecotServer{x.d}, x.user, x.pass, subject)
}

// flags lists uid and flags of every INBOX message, \Recent aside.
func (x *imapDovecot) flags(t *testing.T) string {
	out := x.d.Doveadm(t, "fetch", "-u", x.user, "uid flags", "mailbox", "INBOX", "all")
	return strings.ReplaceAll(out, `\Recent`, "")
}

func TestIMAPDovecot(t *testing.T) {
	t.Parallel()
	x := newIMAPDovecot(t)
	x.d.Deliver(t, x.user, testenv.Message("Jürgen Müller <jm@example.com>", "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "body"))
	x.d.Deliver(t, x.user, testenv.Message("plain@example.com", "second one", "body"))
	for _, sec := range []accounts.Security{accounts.TLS, accounts.StartTLS} {
		t.Run(string(sec), func(t *testing.T) {
			ck := NewIMAP(x.account(sec), x.options(nil))
			defer ck.Close()
			in := mustCheck(t, ck, Query{Want: wantAll})
			if in.Unread != 2 || len(in.IDs) != 2 || len(in.Mails) != 2 {
				t.Fatalf("Unread %d, ids %v, %d mails; want 2, 2, 2", in.Unread, in.IDs, len(in.Mails))
			}
			subjects := map[string]string{}
			for _, m := range in.Mails {
				subjects[m.Subject] = m.From
			}
			if subjects["Grüße aus Köln"] != "Jürgen Müller" || subjects["second one"] != "plain@example.com" {
				t.Fatalf("mails %+v", in.Mails)
			}
		})
	}
	if strings.Contains(x.logs.String(), x.pass) {
		t.Fatal("the debug log shows the password")
	}
}

func TestIMAPDovecotSeenElsewhereAndIdle(t *testing.T) {
	t.Parallel()
	x := newIMAPDovecot(t)
	x.d.Deliver(t, x.user, testenv.Message("a@example.com", "first", "body"))
	ck := NewIMAP(x.account(accounts.TLS), x.options(nil))
	defer ck.Close()
	if in := mustCheck(t, ck, Query{}); in.Unread != 1 {
		t.Fatalf("Unread %d; want 1", in.Unread)
	}
	wait := func(what string, change func()) {
		t.Helper()
		started := x.logs.Count("imap IDLE started")
		errc := make(chan error, 1)
		go func() { errc <- ck.Wait(context.Background(), time.Minute) }()
		if started == 0 {
			waitFor(t, "IDLE", func() bool { return x.logs.Count("imap IDLE started") > 0 })
		}
		t0 := time.Now()
		change()
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			t.Logf("%s: Wait returned %s after the change", what, time.Since(t0).Round(time.Millisecond))
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Wait did not return within 10 s", what)
		}
	}
	wait("delivery", func() { x.d.Deliver(t, x.user, testenv.Message("a@example.com", "second", "body")) })
	if in := mustCheck(t, ck, Query{}); in.Unread != 2 {
		t.Fatalf("Unread %d after delivery; want 2", in.Unread)
	}
	wait("read elsewhere", func() { x.markSeen(t, "first") })
	in := mustCheck(t, ck, Query{Want: wantAll})
	if in.Unread != 1 || len(in.Mails) != 1 {
		t.Fatalf("Unread %d, mails %v after \\Seen elsewhere; want 1", in.Unread, in.Mails)
	}
	for _, m := range in.Mails {
		if m.Subject != "second" {
			t.Fatalf("remaining mail %+v; want subject second", m)
		}
	}
}

func TestIMAPDovecotWrongPassword(t *testing.T) {
	t.Parallel()
	x := newIMAPDovecot(t)
	o := x.options(nil)
	o.Password = func(context.Context) (string, error) { return "not-the-password-42", nil }
	ck := NewIMAP(x.account(accounts.TLS), o)
	defer ck.Close()
	_, err := ck.Check(context.Background(), Query{})
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Kind != KindAuth {
		t.Fatalf("err = %v; want KindAuth", err)
	}
	if strings.Contains(err.Error(), "not-the-password-42") || strings.Contains(x.logs.String(), "not-the-password-42") {
		t.Fatal("the password shows in the error or the log")
	}
}

// TestIMAPDovecotStartTLSStripped puts a man in the middle that removes
// STARTTLS from what Dovecot advertises: the client must give up before it
// sends any credential.
func TestIMAPDovecotStartTLSStripped(t *testing.T) {
	t.Parallel()
	x := newIMAPDovecot(t)
	var mu sync.Mutex
	var fromClient bytes.Buffer
	strip := regexp.MustCompile(`(?i) STARTTLS`)
	proxy := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		up, err := net.Dial("tcp", x.d.Addr(x.d.IMAP))
		if err != nil {
			return
		}
		defer up.Close()
		go func() {
			ur := bufio.NewReader(up)
			for {
				line, err := ur.ReadString('\n')
				if err != nil {
					c.Close()
					return
				}
				io.WriteString(c, strip.ReplaceAllString(line, ""))
			}
		}()
		io.Copy(io.MultiWriter(up, writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return fromClient.Write(p)
		})), br)
	})
	ck := NewIMAP(imapFakeAccount(proxy, accounts.StartTLS), x.options(nil))
	_, err := ck.Check(context.Background(), Query{})
	ck.Close()
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Kind != KindTLS {
		t.Fatalf("err = %v; want KindTLS", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if s := strings.ToUpper(fromClient.String()); strings.Contains(s, "LOGIN") || strings.Contains(s, "AUTHENTICATE") || strings.Contains(s, strings.ToUpper(x.pass)) {
		t.Fatalf("client sent %q", fromClient.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestIMAPDovecotReadOnly records every command over many checks and IDLE
// cycles (clear text on loopback, so the recorder can read them) and checks
// that the flags in the Maildir did not move.
func TestIMAPDovecotReadOnly(t *testing.T) {
	t.Parallel()
	x := newIMAPDovecot(t)
	for i := range 5 {
		x.d.Deliver(t, x.user, testenv.Message("a@example.com", fmt.Sprint("old", i), "body"))
	}
	x.markSeen(t, "old0")
	rec := &imapRecorder{}
	ck := NewIMAP(x.account(accounts.None), x.options(rec)).(*imapChecker)
	ck.idleRestart = 100 * time.Millisecond
	mustCheck(t, ck, Query{Want: wantAll})
	for i := range 4 {
		errc := make(chan error, 1)
		go func() { errc <- ck.Wait(context.Background(), time.Minute) }()
		x.d.Deliver(t, x.user, testenv.Message("a@example.com", fmt.Sprint("new", i), "body"))
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		mustCheck(t, ck, Query{Want: wantAll})
		mustCheck(t, ck, Query{Want: wantAll, Validity: map[string]uint32{"INBOX": 1}})
	}
	before := x.flags(t)
	// Checks and IDLE restarts with nothing else going on.
	for range 3 {
		mustCheck(t, ck, Query{Want: wantAll})
		if err := ck.Wait(context.Background(), 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	ck.Close()
	if after := x.flags(t); after != before {
		t.Fatalf("flags changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	cmds := rec.commands()
	imapAssertReadOnly(t, cmds)
	if rec.count("IDLE") < 3 || rec.count("UID FETCH") == 0 || rec.count("EXAMINE") == 0 {
		t.Fatalf("too few IDLE / UID FETCH / EXAMINE to prove anything: %v", cmds)
	}
	if n := strings.Count(before, `\Seen`); n != 1 {
		t.Fatalf("%d messages \\Seen; want just old0:\n%s", n, before)
	}
}
