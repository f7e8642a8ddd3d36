package poller

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/pop3d"
	"mailsneaker/seen"
)

// The tests in this file play hostile servers over real TCP: malformed
// replies, huge lines, endless replies, garbage and a slow drip. A check
// against one must end with a *CheckError, in bounded memory, and must not
// disturb the other accounts of a Manager.

// hostileMemBound is the most a check against a hostile server may allocate
// in total (runtime.MemStats.TotalAlloc): the worst case is an endless POP3
// IMAP literal, which stops at imapMaxReply (32 MiB, ~160 MiB allocated);
// an endless POP3 UIDL listing, which go-pop3 buffers up to the 24 MiB
// listing limit growing a bytes.Buffer by doubling, comes next.
// hostileRetained bounds the heap still in use after the check and a GC.
const (
	hostileMemBound = 256 << 20
	hostileRetained = 16 << 20
)

// drip writes one byte of pat every 100 ms until the client goes away.
func drip(w io.Writer, pat string) {
	for i := 0; ; i++ {
		if _, err := w.Write([]byte{pat[i%len(pat)]}); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // the server's pace, not synchronisation
	}
}

// endless writes pat over and over until the client goes away.
func endless(w io.Writer, pat string) {
	chunk := []byte(strings.Repeat(pat, 64<<10/len(pat)+1))
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// hostileIMAP greets with greet, answers CAPABILITY and LOGIN like a server,
// and lets then answer every other command (tag is the command's tag).
func hostileIMAP(greet func(w io.Writer), then func(w io.Writer, tag, line string)) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		greet(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch verb, _, _ := strings.Cut(rest, " "); strings.ToUpper(verb) {
			case "CAPABILITY":
				io.WriteString(c, "* CAPABILITY IMAP4rev1\r\n"+tag+" OK done\r\n")
			case "LOGIN":
				io.WriteString(c, tag+" OK logged in\r\n")
			case "LOGOUT":
				io.WriteString(c, "* BYE\r\n"+tag+" OK bye\r\n")
				return
			default:
				if then == nil {
					return
				}
				then(c, tag, line)
			}
		}
	}
}

func say(s string) func(io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }

const imapHello = "* OK [CAPABILITY IMAP4rev1] hostile\r\n"

// hostilePOP3 greets with greet and answers the commands in order with replies;
// the last reply func may run forever.
func hostilePOP3(greet func(w io.Writer), replies ...func(w io.Writer)) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		greet(c)
		for _, r := range replies {
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
			r(c)
		}
		io.Copy(io.Discard, br)
	}
}

// memDuring runs f and returns the bytes it allocated and the growth of the
// heap in use after it and a GC.
func memDuring(f func()) (total, inuse int64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc), int64(after.HeapInuse) - int64(before.HeapInuse)
}

func TestHostileServers(t *testing.T) {
	garbage := make([]byte, 1<<20)
	for i := range garbage {
		garbage[i] = byte(rand.IntN(256))
	}
	tenMB := "* OK " + strings.Repeat("A", 10<<20) + "\r\n"
	type server struct {
		proto  accounts.Protocol
		handle func(net.Conn, *bufio.Reader)
	}
	imapCase := func(greet func(io.Writer), then func(w io.Writer, tag, line string)) server {
		return server{accounts.IMAP, hostileIMAP(greet, then)}
	}
	pop3Case := func(greet func(io.Writer), replies ...func(io.Writer)) server {
		return server{accounts.POP3, hostilePOP3(greet, replies...)}
	}
	type hcase struct {
		name   string
		proto  accounts.Protocol
		handle func(net.Conn, *bufio.Reader)
		kind   ErrorKind
		words  string // in the CheckError's text
	}
	mk := func(name string, kind ErrorKind, words string, s server) hcase {
		return hcase{name, s.proto, s.handle, kind, words}
	}
	cases := []hcase{
		mk("imap malformed greeting", KindProtocol, "", imapCase(say("* HELLO there\r\n"), nil)),
		mk("imap malformed STATUS", KindProtocol, "", imapCase(say(imapHello), func(w io.Writer, tag, _ string) {
			io.WriteString(w, "* STATUS INBOX (MESSAGES x UNSEEN ((\r\n"+tag+" OK done\r\n")
		})),
		mk("imap STATUS without counts", KindProtocol, "without counts", imapCase(say(imapHello), func(w io.Writer, tag, _ string) {
			io.WriteString(w, "* STATUS INBOX (UIDNEXT 5)\r\n"+tag+" OK done\r\n")
		})),
		mk("imap binary garbage", KindProtocol, "", imapCase(func(w io.Writer) { w.Write(garbage) }, nil)),
		mk("imap garbage after login", KindProtocol, "", imapCase(say(imapHello), func(w io.Writer, _, _ string) { w.Write(garbage) })),
		mk("imap 10 MB line", KindProtocol, "more than 8 MiB in one line", imapCase(say(tenMB), nil)),
		mk("imap endless line", KindProtocol, "more than 8 MiB in one line", imapCase(say(imapHello), func(w io.Writer, tag, _ string) {
			io.WriteString(w, "* STATUS INBOX (MESSAGES 1")
			endless(w, " 1")
		})),
		mk("imap endless literal", KindProtocol, "more than 32 MiB in reply to one command", imapCase(say(imapHello), func(w io.Writer, tag, _ string) {
			io.WriteString(w, "* STATUS {4000000000}\r\n")
			endless(w, "INBOX\r\n")
		})),
		mk("imap endless reply", KindProtocol, "more than 32 MiB in reply to one command", imapCase(say(imapHello), func(w io.Writer, tag, _ string) {
			endless(w, "* 1 EXISTS\r\n")
		})),
		mk("imap slow drip greeting", KindNetwork, "did not answer in time", imapCase(func(w io.Writer) { drip(w, imapHello) }, nil)),
		mk("imap slow drip reply", KindNetwork, "did not answer in time", imapCase(say(imapHello), func(w io.Writer, tag, _ string) {
			drip(w, "* STATUS INBOX (MESSAGES 1 UNSEEN 1 UIDNEXT 2 UIDVALIDITY 1)\r\n"+tag+" OK\r\n")
		})),
		mk("pop3 binary garbage", KindProtocol, "", pop3Case(func(w io.Writer) { w.Write(garbage) })),
		mk("pop3 10 MB line", KindProtocol, "line longer than 64 KiB", pop3Case(say("+OK "+strings.Repeat("A", 10<<20)+"\r\n"))),
		mk("pop3 slow drip greeting", KindNetwork, "did not answer in time", pop3Case(func(w io.Writer) { drip(w, "+OK hi\r\n") })),
		mk("pop3 slow drip UIDL", KindNetwork, "did not answer in time", pop3Case(say("+OK\r\n"), say("-ERR\r\n"), say("+OK\r\n"), say("+OK\r\n"),
			func(w io.Writer) { io.WriteString(w, "+OK\r\n"); drip(w, "1 a\r\n") })),
		mk("pop3 endless UIDL", KindProtocol, "", pop3Case(say("+OK\r\n"), say("-ERR\r\n"), say("+OK\r\n"), say("+OK\r\n"),
			func(w io.Writer) { io.WriteString(w, "+OK\r\n"); endless(w, "1 a\r\n") })),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "drip") {
				// Time-bound and allocation-free: together, after the others.
				t.Parallel()
			}
			addr := imapFakeServer(t, tc.handle)
			a := imapFakeAccount(addr, accounts.None)
			a.Protocol = tc.proto
			o := &Options{Password: func(context.Context) (string, error) { return "pw", nil }, Timeout: 2 * time.Second}
			var c Checker
			if tc.proto == accounts.POP3 {
				c = NewPOP3(a, o)
			} else {
				c = NewIMAP(a, o)
			}
			var err error
			start := time.Now()
			total, inuse := memDuring(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				_, err = c.Check(ctx, Query{Want: wantAll})
				c.Close()
			})
			took := time.Since(start)
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *CheckError", err, err)
			}
			if ce.Kind != tc.kind || !strings.Contains(ce.Error(), tc.words) || ce.Msg == "" {
				t.Errorf("error %q (kind %s), want kind %s saying %q", ce.Error(), ce.Kind, tc.kind, tc.words)
			}
			if len(ce.Error()) > 2000 {
				t.Errorf("error message of %d bytes: the server's words must be clipped", len(ce.Error()))
			}
			t.Logf("%s after %s; allocated %d MiB, heap in use %+d MiB", ce.Msg, took.Round(time.Millisecond), total>>20, inuse>>20)
			if total > hostileMemBound || inuse > hostileRetained {
				t.Errorf("allocated %d MiB (heap retained %+d MiB); bounds %d MiB, %d MiB", total>>20, inuse>>20, hostileMemBound>>20, hostileRetained>>20)
			}
		})
	}
}

// TestHostileServerSparesOtherAccounts runs a Manager with a hostile IMAP
// account (an endless literal, then garbage) beside a healthy POP3 one: the
// hostile one shows a CheckError, the healthy one goes on counting.
func TestHostileServerSparesOtherAccounts(t *testing.T) {
	t.Parallel()
	addr := imapFakeServer(t, hostileIMAP(say(imapHello), func(w io.Writer, tag, _ string) {
		io.WriteString(w, "* STATUS {4000000000}\r\n")
		endless(w, "INBOX\r\n")
	}))
	hostile := imapFakeAccount(addr, accounts.None)
	hostile.Name = "hostile"
	srv := &pop3d.Server{}
	srv.AddUser("carol", "pw")
	srv.Deliver("carol", testenv.Message("Old <old@example.com>", "old", "x"))
	healthy := accounts.Account{Name: "healthy", Protocol: accounts.POP3, Host: "127.0.0.1", Port: pop3StartServer(t, srv, nil),
		Security: accounts.None, Username: "carol", PollInterval: time.Hour}
	store, err := seen.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{hostile, healthy}, Store: store,
		BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		CheckerOptions: func(accounts.Account) *Options {
			return &Options{Password: func(context.Context) (string, error) { return "pw", nil }, Timeout: 5 * time.Second}
		}})
	hostileFailing := func(s Snapshot) bool {
		return s.Accounts[0].State == StateError && s.Accounts[0].Err != nil &&
			strings.Contains(s.Accounts[0].Err.Error(), "more than 32 MiB")
	}
	waitSnap(t, sub, "hostile failing, healthy baselined", func(s Snapshot) bool { return hostileFailing(s) && newCount("healthy", 0)(s) })
	for i := 1; i <= 3; i++ {
		srv.Deliver("carol", testenv.Message("New <new@example.com>", "new", "x"))
		m.CheckNow("healthy")
		waitSnap(t, sub, "healthy counts while hostile fails", func(s Snapshot) bool { return hostileFailing(s) && newCount("healthy", i)(s) })
	}
	stop()
}
