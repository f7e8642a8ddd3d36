package poller

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"go.uber.org/goleak"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

// imapMem is go-imap's in-memory server on 127.0.0.1:0 with user alice.
type imapMem struct {
	addr string
	port int
	user *imapmemserver.User
}

// startIMAPMem starts the server; caps are advertised beside IMAP4rev1 and ESEARCH.
func startIMAPMem(t testing.TB, caps ...imap.Cap) *imapMem {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("alice", "secret")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	capSet := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapESearch: {}}
	for _, c := range caps {
		capSet[c] = struct{}{}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         capSet,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &imapMem{addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port, user: u}
}

// add appends msg to folder with flags and returns its UID.
func (m *imapMem) add(t testing.TB, folder string, msg []byte, flags ...imap.Flag) imap.UID {
	t.Helper()
	data, err := m.user.Append(folder, bytes.NewReader(msg), &imap.AppendOptions{Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return data.UID
}

// markSeen sets \Seen on uid from another IMAP session, as a mail client would.
func (m *imapMem) markSeen(t testing.TB, folder string, uid imap.UID) {
	t.Helper()
	c, err := imapclient.DialInsecure(m.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	imapOtherClientMarkSeen(t, c, "alice", "secret", folder, uid)
}

func imapOtherClientMarkSeen(t testing.TB, c *imapclient.Client, user, pass, folder string, uid imap.UID) {
	t.Helper()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
}

func (m *imapMem) account() accounts.Account {
	return accounts.Account{Name: "mem", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: m.port,
		Security: accounts.None, Username: "alice", Folders: []string{"INBOX"}}
}

// imapRecorder is an Options.Dial that records every byte the client writes
// and counts the bytes it receives.
type imapRecorder struct {
	mu      sync.Mutex
	written bytes.Buffer
	conns   []net.Conn
	read    atomic.Int64
}

func (r *imapRecorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	return &imapRecConn{Conn: c, r: r}, nil
}

type imapRecConn struct {
	net.Conn
	r *imapRecorder
}

func (c *imapRecConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.r.read.Add(int64(n))
	return n, err
}

func (c *imapRecConn) Write(p []byte) (int, error) {
	c.r.mu.Lock()
	c.r.written.Write(p)
	c.r.mu.Unlock()
	return c.Conn.Write(p)
}

// commands returns the command names written since the last reset
// ("STATUS", "UID FETCH", "DONE").
func (r *imapRecorder) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cmds []string
	for line := range strings.Lines(r.written.String()) {
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && strings.EqualFold(f[0], "DONE"):
			cmds = append(cmds, "DONE")
		case len(f) >= 3 && strings.EqualFold(f[1], "UID"):
			cmds = append(cmds, "UID "+strings.ToUpper(f[2]))
		case len(f) >= 2:
			cmds = append(cmds, strings.ToUpper(f[1]))
		}
	}
	return cmds
}

func (r *imapRecorder) count(cmd string) int {
	n := 0
	for _, c := range r.commands() {
		if c == cmd {
			n++
		}
	}
	return n
}

func (r *imapRecorder) reset() {
	r.mu.Lock()
	r.written.Reset()
	r.mu.Unlock()
}

// killAll closes every connection under the client, as a dying network would.
func (r *imapRecorder) killAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, cond, "%s", what)
}

func imapOptions(rec *imapRecorder, password string) *Options {
	o := &Options{Password: func(context.Context) (string, error) { return password, nil }, Timeout: 10 * time.Second}
	if rec != nil {
		o.Dial = rec.dial
	}
	return o
}

func wantAll(string) bool { return true }

func mustCheck(t testing.TB, ck Checker, q Query) *Inbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in, err := ck.Check(ctx, q)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return in
}

func TestIMAPCountsUnseenAndFetchesWanted(t *testing.T) {
	m := startIMAPMem(t)
	m.add(t, "INBOX", testenv.Message("Old <old@example.com>", "read already", "x"), imap.FlagSeen)
	u1 := m.add(t, "INBOX", testenv.Message("Ann Example <ann@example.com>", "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "x"))
	u2 := m.add(t, "INBOX", testenv.Message("bob@example.com", "plain subject", "x"))
	ck := NewIMAP(m.account(), imapOptions(nil, "secret"))
	defer ck.Close()

	in := mustCheck(t, ck, Query{})
	if in.Unread != 2 || in.Messages != 3 || len(in.IDs) != 2 || len(in.Mails) != 0 {
		t.Fatalf("Unread %d Messages %d IDs %v Mails %d; want 2 3 two ids no mails", in.Unread, in.Messages, in.IDs, len(in.Mails))
	}
	id1, id2 := in.IDs[1], in.IDs[0] // newest first
	if f, _, uid, ok := ParseIMAPID(id1); !ok || f != "INBOX" || imap.UID(uid) != u1 {
		t.Fatalf("id %q: want INBOX uid %d", id1, u1)
	}

	in = mustCheck(t, ck, Query{Want: func(id string) bool { return id == id1 }})
	if len(in.Mails) != 1 {
		t.Fatalf("Mails %v; want only %s", in.Mails, id1)
	}
	in = mustCheck(t, ck, Query{Want: wantAll})
	m1, m2 := in.Mails[id1], in.Mails[id2]
	if m1.From != "Ann Example" || m1.Subject != "Grüße aus Köln" || m1.Folder != "INBOX" || m1.ID != id1 ||
		m1.Date.IsZero() || !strings.HasSuffix(m1.MessageID, "@test.example") {
		t.Errorf("mail 1 = %+v", m1)
	}
	if m2.From != "bob@example.com" || m2.Subject != "plain subject" {
		t.Errorf("mail 2 = %+v", m2)
	}
	_, _, uid2, _ := ParseIMAPID(id2)
	if imap.UID(uid2) != u2 {
		t.Errorf("id2 %s: want uid %d", id2, u2)
	}
}

func TestIMAPUnchangedCheckIsOneStatus(t *testing.T) {
	m := startIMAPMem(t)
	for i := range 5 {
		m.add(t, "INBOX", testenv.Message("a@example.com", fmt.Sprint("m", i), "x"))
	}
	rec := &imapRecorder{}
	ck := NewIMAP(m.account(), imapOptions(rec, "secret"))
	defer ck.Close()
	first := mustCheck(t, ck, Query{Want: wantAll})
	rec.reset()
	// The caller has every envelope now: Want is false for all.
	second := mustCheck(t, ck, Query{Want: func(string) bool { return false }})
	if got := rec.commands(); !slices.Equal(got, []string{"STATUS"}) {
		t.Fatalf("unchanged check sent %v; want only STATUS", got)
	}
	if !slices.Equal(first.IDs, second.IDs) || second.Unread != 5 {
		t.Fatalf("second check %v unread %d; want %v", second.IDs, second.Unread, first.IDs)
	}
	// Wanting an already fetched envelope again costs nothing either.
	rec.reset()
	third := mustCheck(t, ck, Query{Want: wantAll})
	if got := rec.commands(); !slices.Equal(got, []string{"STATUS"}) || len(third.Mails) != 5 {
		t.Fatalf("cached check sent %v and gave %d mails; want only STATUS and 5", got, len(third.Mails))
	}
}

func TestIMAPSeenElsewhereDropsOut(t *testing.T) {
	m := startIMAPMem(t)
	u1 := m.add(t, "INBOX", testenv.Message("a@example.com", "one", "x"))
	m.add(t, "INBOX", testenv.Message("a@example.com", "two", "x"))
	ck := NewIMAP(m.account(), imapOptions(nil, "secret"))
	defer ck.Close()
	if in := mustCheck(t, ck, Query{Want: wantAll}); in.Unread != 2 {
		t.Fatalf("Unread %d; want 2", in.Unread)
	}
	m.markSeen(t, "INBOX", u1)
	in := mustCheck(t, ck, Query{Want: wantAll})
	if in.Unread != 1 || len(in.IDs) != 1 || in.Messages != 2 {
		t.Fatalf("after \\Seen elsewhere: Unread %d IDs %v Messages %d; want 1, 1, 2", in.Unread, in.IDs, in.Messages)
	}
	if _, _, uid, _ := ParseIMAPID(in.IDs[0]); imap.UID(uid) == u1 {
		t.Fatalf("the seen mail %d is still reported", u1)
	}
}

func TestIMAPUIDValidityReset(t *testing.T) {
	m := startIMAPMem(t)
	m.add(t, "INBOX", testenv.Message("a@example.com", "one", "x"))
	ck := NewIMAP(m.account(), imapOptions(nil, "secret"))
	defer ck.Close()
	in := mustCheck(t, ck, Query{})
	_, oldValidity, _, _ := ParseIMAPID(in.IDs[0])

	// The server rebuilds the folder: new UIDVALIDITY, same mails.
	if err := m.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := m.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		m.add(t, "INBOX", testenv.Message("a@example.com", fmt.Sprint("m", i), "x"))
	}
	m.add(t, "INBOX", testenv.Message("a@example.com", "seen", "x"), imap.FlagSeen)
	in = mustCheck(t, ck, Query{Want: func(string) bool { return false }, Validity: map[string]uint32{"INBOX": oldValidity}})
	if !slices.Equal(in.Reset, []string{"INBOX"}) {
		t.Fatalf("Reset = %v; want [INBOX]", in.Reset)
	}
	if len(in.IDs) != 30 || len(in.Mails) != 30 {
		t.Fatalf("%d ids, %d mails; want all 30 unseen described (beyond MaxMails)", len(in.IDs), len(in.Mails))
	}
	for _, id := range in.IDs {
		mail, ok := in.Mails[id]
		if _, v, _, _ := ParseIMAPID(id); v == oldValidity || !ok || mail.MessageID == "" {
			t.Fatalf("id %s (old validity %d): mail %+v", id, oldValidity, mail)
		}
	}
	// With the new validity known there is no reset.
	_, newValidity, _, _ := ParseIMAPID(in.IDs[0])
	in = mustCheck(t, ck, Query{Validity: map[string]uint32{"INBOX": newValidity}})
	if len(in.Reset) != 0 {
		t.Fatalf("Reset = %v with the current validity", in.Reset)
	}
}

func TestIMAPMaxMailsNewestFirst(t *testing.T) {
	m := startIMAPMem(t)
	var uids []imap.UID
	for i := range MaxMails + 5 {
		uids = append(uids, m.add(t, "INBOX", testenv.Message("a@example.com", fmt.Sprint("m", i), "x")))
	}
	ck := NewIMAP(m.account(), imapOptions(nil, "secret"))
	defer ck.Close()
	in := mustCheck(t, ck, Query{Want: wantAll})
	if len(in.Mails) != MaxMails || len(in.IDs) != MaxMails+5 {
		t.Fatalf("%d mails %d ids; want %d and %d", len(in.Mails), len(in.IDs), MaxMails, MaxMails+5)
	}
	for _, uid := range uids[:5] {
		if _, ok := in.Mails[imapID("INBOX", 1, uid)]; ok {
			t.Errorf("old mail %d described; want the newest %d", uid, MaxMails)
		}
	}
}

func TestIMAPMissingFolder(t *testing.T) {
	m := startIMAPMem(t)
	a := m.account()
	a.Folders = []string{"INBOX", "Nope/Deeper"}
	ck := NewIMAP(a, imapOptions(nil, "secret"))
	defer ck.Close()
	_, err := ck.Check(context.Background(), Query{})
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Kind != KindConfig || !strings.Contains(ce.Msg, "folder Nope/Deeper does not exist on 127.0.0.1") {
		t.Fatalf("err = %v; want KindConfig folder does not exist", err)
	}
}

func TestIMAPWrongPassword(t *testing.T) {
	m := startIMAPMem(t)
	ck := NewIMAP(m.account(), imapOptions(nil, "wrong-password-123"))
	defer ck.Close()
	_, err := ck.Check(context.Background(), Query{})
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Kind != KindAuth || !strings.Contains(ce.Msg, "login refused by 127.0.0.1: check the password") {
		t.Fatalf("err = %v; want KindAuth", err)
	}
	if strings.Contains(err.Error(), "wrong-password-123") {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestIMAPReconnectsWhenConnectionDied(t *testing.T) {
	m := startIMAPMem(t)
	m.add(t, "INBOX", testenv.Message("a@example.com", "one", "x"))
	rec := &imapRecorder{}
	ck := NewIMAP(m.account(), imapOptions(rec, "secret"))
	defer ck.Close()
	mustCheck(t, ck, Query{})
	rec.killAll()
	rec.reset()
	in := mustCheck(t, ck, Query{})
	if in.Unread != 1 || rec.count("LOGIN") != 1 {
		t.Fatalf("Unread %d after %v; want 1 after one new LOGIN", in.Unread, rec.commands())
	}
}

func TestIMAPIdleWaitReturnsOnNewMailAndFlagChange(t *testing.T) {
	m := startIMAPMem(t)
	u1 := m.add(t, "INBOX", testenv.Message("a@example.com", "one", "x"))
	rec := &imapRecorder{}
	ck := NewIMAP(m.account(), imapOptions(rec, "secret"))
	defer ck.Close()
	mustCheck(t, ck, Query{})

	wait := func(change func()) {
		t.Helper()
		errc := make(chan error, 1)
		idles := rec.count("IDLE")
		go func() { errc <- ck.Wait(context.Background(), time.Minute) }()
		// IDLE is running (from the first Wait on, it stays running).
		waitFor(t, "IDLE", func() bool { return rec.count("IDLE") > idles || idles > 0 })
		change()
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Wait did not return within 10 s of the change")
		}
	}
	wait(func() { m.add(t, "INBOX", testenv.Message("a@example.com", "two", "x")) })
	if in := mustCheck(t, ck, Query{}); in.Unread != 2 {
		t.Fatalf("Unread %d; want 2", in.Unread)
	}
	wait(func() { m.markSeen(t, "INBOX", u1) })
	if in := mustCheck(t, ck, Query{}); in.Unread != 1 {
		t.Fatalf("Unread %d; want 1", in.Unread)
	}
	// One IDLE connection, kept across Waits.
	if n := rec.count("LOGIN"); n != 2 {
		t.Errorf("%d LOGINs; want 2: the check and the IDLE connection, both kept", n)
	}
}

func TestIMAPIdleRestartsAndTimesOut(t *testing.T) {
	m := startIMAPMem(t)
	rec := &imapRecorder{}
	ck := NewIMAP(m.account(), imapOptions(rec, "secret")).(*imapChecker)
	ck.idleRestart = 50 * time.Millisecond
	defer ck.Close()
	mustCheck(t, ck, Query{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ck.Wait(ctx, time.Minute) }()
	waitFor(t, "three IDLE restarts", func() bool { return rec.count("DONE") >= 3 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel = %v", err)
	}
	start := time.Now()
	if err := ck.Wait(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatalf("Wait(d) = %v; want nil when d elapses", err)
	}
	if el := time.Since(start); el < 100*time.Millisecond || el > 5*time.Second {
		t.Fatalf("Wait(100ms) took %s", el)
	}
}

func TestIMAPIdleConnectionDeathIsCheckError(t *testing.T) {
	m := startIMAPMem(t)
	rec := &imapRecorder{}
	ck := NewIMAP(m.account(), imapOptions(rec, "secret"))
	defer ck.Close()
	mustCheck(t, ck, Query{})
	errc := make(chan error, 1)
	go func() { errc <- ck.Wait(context.Background(), time.Minute) }()
	waitFor(t, "IDLE", func() bool { return rec.count("IDLE") > 0 })
	rec.killAll()
	select {
	case err := <-errc:
		var ce *CheckError
		if !errors.As(err, &ce) || ce.Kind != KindNetwork {
			t.Fatalf("Wait = %v; want a KindNetwork *CheckError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not notice the dead IDLE connection")
	}
	// Check reconnects; the next Wait opens IDLE again.
	mustCheck(t, ck, Query{})
	idles := rec.count("IDLE")
	go func() { errc <- ck.Wait(context.Background(), time.Minute) }()
	waitFor(t, "IDLE again", func() bool { return rec.count("IDLE") > idles })
	m.add(t, "INBOX", testenv.Message("a@example.com", "new", "x"))
	if err := <-errc; err != nil {
		t.Fatalf("Wait = %v", err)
	}
}

// imapAnswer is a scripted IMAP server's command loop: every line the
// client writes goes to record (if set), and answer gives the reply to a
// tagged command.
func imapAnswer(c net.Conn, br *bufio.Reader, record func(string), answer func(tag, cmd string) string) {
	for {
		line, err := br.ReadString('\n')
		if record != nil {
			record(line)
		}
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return
		}
		io.WriteString(c, answer(f[0], strings.ToUpper(f[1])))
	}
}

func TestIMAPWithoutIdleWaitsD(t *testing.T) {
	// A server without IDLE: the fake answers just enough to log in.
	addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		io.WriteString(c, "* OK [CAPABILITY IMAP4rev1] fake\r\n")
		imapAnswer(c, br, nil, func(tag, cmd string) string {
			switch cmd {
			case "CAPABILITY":
				return "* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n"
			case "LOGIN":
				return tag + " OK [CAPABILITY IMAP4rev1] in\r\n"
			}
			return tag + " OK fine\r\n"
		})
	})
	ck := NewIMAP(imapFakeAccount(addr, accounts.None), imapOptions(nil, "pw"))
	defer ck.Close()
	start := time.Now()
	if err := ck.Wait(context.Background(), 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("Wait returned after %s; want the full 150ms", el)
	}
}

func TestIMAPStartTLSNotOfferedRefusedBeforeLogin(t *testing.T) {
	var mu sync.Mutex
	var got bytes.Buffer
	addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		io.WriteString(c, "* OK IMAP4rev1 ready\r\n")
		record := func(line string) {
			mu.Lock()
			got.WriteString(line)
			mu.Unlock()
		}
		imapAnswer(c, br, record, func(tag, cmd string) string {
			switch cmd {
			case "CAPABILITY":
				return "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK done\r\n"
			case "STARTTLS":
				// A downgrading attacker would pretend it worked.
				return tag + " OK go ahead\r\n"
			}
			return tag + " OK fine\r\n"
		})
	})
	ck := NewIMAP(imapFakeAccount(addr, accounts.StartTLS), imapOptions(nil, "pw"))
	_, err := ck.Check(context.Background(), Query{})
	ck.Close()
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Kind != KindTLS {
		t.Fatalf("err = %v; want KindTLS", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if s := strings.ToUpper(got.String()); strings.Contains(s, "LOGIN") || strings.Contains(s, "AUTHENTICATE") || strings.Contains(s, "STARTTLS") {
		t.Fatalf("client sent %q to a server without STARTTLS", got.String())
	}
}

func TestIMAPCancelUnblocksCheck(t *testing.T) {
	// A server that accepts and never says a word.
	addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
	ck := NewIMAP(imapFakeAccount(addr, accounts.None), &Options{Timeout: time.Minute})
	defer ck.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := ck.Check(ctx, Query{})
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Check = %v; want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Check still blocked 5 s after cancel")
	}
}

func TestIMAPCloseLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the server's cleanup
	m := startIMAPMem(t)
	m.add(t, "INBOX", testenv.Message("a@example.com", "one", "x"))
	rec := &imapRecorder{}
	ck := NewIMAP(m.account(), imapOptions(rec, "secret"))
	mustCheck(t, ck, Query{Want: wantAll})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ck.Wait(ctx, time.Minute) }()
	waitFor(t, "IDLE", func() bool { return rec.count("IDLE") > 0 })
	cancel()
	<-errc
	if err := ck.Close(); err != nil {
		t.Fatal(err)
	}
	if rec.count("LOGOUT") != 2 {
		t.Errorf("commands %v; want a LOGOUT on both connections", rec.commands())
	}
}

func TestIMAPReadOnlyCommandsOnly(t *testing.T) {
	m := startIMAPMem(t)
	rec := &imapRecorder{}
	a := m.account()
	ck := NewIMAP(a, imapOptions(rec, "secret")).(*imapChecker)
	ck.idleRestart = 20 * time.Millisecond
	for i := range 5 {
		uid := m.add(t, "INBOX", testenv.Message("a@example.com", fmt.Sprint("m", i), "x"))
		mustCheck(t, ck, Query{Want: wantAll})
		errc := make(chan error, 1)
		go func() { errc <- ck.Wait(context.Background(), time.Minute) }()
		m.markSeen(t, "INBOX", uid)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	ck.Close()
	imapAssertReadOnly(t, rec.commands())
}

// imapAssertReadOnly fails if cmds has anything but read-only commands.
func imapAssertReadOnly(t testing.TB, cmds []string) {
	t.Helper()
	allowed := map[string]bool{"EXAMINE": true, "STATUS": true, "UID SEARCH": true, "UID FETCH": true, "IDLE": true,
		"DONE": true, "LOGIN": true, "AUTHENTICATE": true, "CAPABILITY": true, "LOGOUT": true, "NOOP": true,
		"ENABLE": true, "ID": true, "UNSELECT": true}
	if len(cmds) == 0 {
		t.Fatal("no commands recorded")
	}
	for _, c := range cmds {
		if !allowed[c] {
			t.Errorf("client sent %s; every command: %v", c, cmds)
		}
	}
}

func TestParseIMAPID(t *testing.T) {
	for _, tc := range []struct {
		id       string
		folder   string
		validity uint32
		uid      uint32
		ok       bool
	}{
		{"INBOX/17/42", "INBOX", 17, 42, true},
		{"Lists/go/dev/5/6", "Lists/go/dev", 5, 6, true},
		{imapID("a/b", 4294967295, 1), "a/b", 4294967295, 1, true},
		{"INBOX/17", "", 0, 0, false},
		{"/17/42", "", 0, 0, false},
		{"INBOX/x/42", "", 0, 0, false},
		{"INBOX/17/+42", "", 0, 0, false},
		{"INBOX/17/0", "", 0, 0, false},
		{"INBOX/4294967296/1", "", 0, 0, false},
		{"0000000100000001", "", 0, 0, false},
	} {
		f, v, u, ok := ParseIMAPID(tc.id)
		if f != tc.folder || v != tc.validity || u != tc.uid || ok != tc.ok {
			t.Errorf("ParseIMAPID(%q) = %q %d %d %v; want %q %d %d %v", tc.id, f, v, u, ok, tc.folder, tc.validity, tc.uid, tc.ok)
		}
	}
}

// BenchmarkIMAPUnchangedCheck measures a check of an unchanged mailbox:
// the bytes received must not grow with the mailbox.
func BenchmarkIMAPUnchangedCheck(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			m := startIMAPMem(b)
			msg := testenv.Message("a@example.com", "bulk", "x")
			for i := range n {
				var flags []imap.Flag
				if i%2 == 0 {
					flags = []imap.Flag{imap.FlagSeen}
				}
				m.add(b, "INBOX", msg, flags...)
			}
			rec := &imapRecorder{}
			ck := NewIMAP(m.account(), imapOptions(rec, "secret"))
			defer ck.Close()
			q := Query{Want: func(string) bool { return false }}
			mustCheck(b, ck, q)
			before := rec.read.Load()
			b.ResetTimer()
			for b.Loop() {
				if _, err := ck.Check(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rec.read.Load()-before)/float64(b.N), "B-recv/check")
		})
	}
}

// imapFakeServer serves each connection with handle on 127.0.0.1:0.
func imapFakeServer(t testing.TB, handle func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c, bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().String()
}

func imapFakeAccount(addr string, sec accounts.Security) accounts.Account {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return accounts.Account{Name: "fake", Protocol: accounts.IMAP, Host: host, Port: p, Security: sec, Username: "u", Folders: []string{"INBOX"}}
}
