package poller

// The core count scenarios, run against every server implementation the
// test command installs: Dovecot, and GNU Mailutils, whose habits (a new
// UIDVALIDITY from the clock, mail in Maildir new/ renumbered at every
// session, an IDLE that reports nothing) are what the count must survive.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/seen"
)

// mailServer is one server implementation, started for a test.
type mailServer interface {
	addUser(t *testing.T) (user, pw string)
	rootCAs() *x509.CertPool
	tlsConfig() *tls.Config
	imapsAddr() (host string, port int)
	pop3sAddr() (host string, port int)
	deliver(t *testing.T, user string, msg []byte)
	// newUIDValidity makes the server give user's INBOX a new UIDVALIDITY.
	newUIDValidity(t *testing.T, user string)
}

// mailServers are the implementations, by name.
var mailServers = []struct {
	name  string
	start func(t *testing.T) mailServer
}{
	{"dovecot", func(t *testing.T) mailServer { return dovecotServer{testenv.StartDovecot(t)} }},
	{"mailutils", func(t *testing.T) mailServer { return mailutilsServer{testenv.StartMailutils(t)} }},
}

type dovecotServer struct{ d *testenv.Dovecot }

func (s dovecotServer) addUser(t *testing.T) (string, string) { return s.d.AddUser(t) }
func (s dovecotServer) rootCAs() *x509.CertPool               { return s.d.RootCAs }
func (s dovecotServer) tlsConfig() *tls.Config                { return s.d.TLSConfig() }
func (s dovecotServer) imapsAddr() (string, int)              { return "127.0.0.1", s.d.IMAPS }
func (s dovecotServer) pop3sAddr() (string, int)              { return "127.0.0.1", s.d.POP3S }
func (s dovecotServer) deliver(t *testing.T, user string, msg []byte) {
	s.d.Deliver(t, user, msg)
}
func (s dovecotServer) newUIDValidity(t *testing.T, user string) {
	v := strconv.FormatUint(uint64(otherUIDValidity()), 10)
	s.d.Doveadm(t, "mailbox", "update", "-u", user, "--uid-validity", v, "INBOX")
}

type mailutilsServer struct{ m *testenv.Mailutils }

func (s mailutilsServer) addUser(t *testing.T) (string, string) { return s.m.AddUser(t) }
func (s mailutilsServer) rootCAs() *x509.CertPool               { return s.m.RootCAs }
func (s mailutilsServer) tlsConfig() *tls.Config                { return s.m.TLSConfig() }
func (s mailutilsServer) imapsAddr() (string, int)              { return "127.0.0.1", s.m.IMAPS }
func (s mailutilsServer) pop3sAddr() (string, int)              { return "127.0.0.1", s.m.POP3S }
func (s mailutilsServer) deliver(t *testing.T, user string, msg []byte) {
	s.m.Deliver(t, user, msg)
}
func (s mailutilsServer) newUIDValidity(t *testing.T, user string) {
	s.m.SetUIDValidity(t, user, "INBOX", otherUIDValidity())
}

// otherUIDValidity is a UIDVALIDITY no server gave: both take theirs from
// the clock, far above this range.
func otherUIDValidity() uint32 { return uint32(1000 + time.Now().UnixNano()%1_000_000) }

// serverAccount is an account of user on srv over implicit TLS that polls
// only hourly: the test asks for every check it needs (Check now), since
// an IDLE that reports nothing is one of the habits under test.
func serverAccount(srv mailServer, name string, p accounts.Protocol, user string) accounts.Account {
	host, port := srv.imapsAddr()
	if p == accounts.POP3 {
		host, port = srv.pop3sAddr()
	}
	return accounts.Account{Name: name, Protocol: p, Host: host, Port: port,
		Security: accounts.TLS, Username: user, PollInterval: time.Hour}.WithDefaults()
}

// noIDMessage is a message without a Message-ID header: the servers that
// renumber it can be followed only by the digest of its headers and size.
func noIDMessage(from, subject string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: test@example.com\r\nSubject: %s\r\nDate: %s\r\n\r\nbody of %s\r\n",
		from, subject, time.Now().Format(time.RFC1123Z), subject))
}

// readElsewhere sets \Seen on the mail with subject, as another client
// does (sequence numbers, so a server that renumbers UIDs between
// sessions is no obstacle).
func readElsewhere(t *testing.T, srv mailServer, user, pw, subject string) {
	t.Helper()
	host, port := srv.imapsAddr()
	c, err := imapclient.DialTLS(fmt.Sprintf("%s:%d", host, port), &imapclient.Options{TLSConfig: srv.tlsConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := c.Search(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: subject}}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	nums := data.AllSeqNums()
	if len(nums) != 1 {
		t.Fatalf("%d messages with subject %q", len(nums), subject)
	}
	if err := c.Store(imap.SeqSetNum(nums...), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	c.Logout().Wait()
}

// deleteElsewhere deletes every mail of user over POP3, as another POP3
// client does. A maildrop locked by a check in progress ([IN-USE]) is
// tried again until a deadline.
func deleteElsewhere(t *testing.T, srv mailServer, user, pw string) {
	t.Helper()
	host, port := srv.pop3sAddr()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := pop3DeleteAll(fmt.Sprintf("%s:%d", host, port), srv.tlsConfig(), user, pw)
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "IN-USE") || time.Now().After(deadline) {
			t.Fatalf("POP3 delete elsewhere: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the lock holder's check ends on its own; the deadline bounds the wait
	}
}

func pop3DeleteAll(addr string, cfg *tls.Config, user, pw string) error {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	cmd := func(line string) (string, error) {
		if line != "" {
			if _, err := c.Write([]byte(line + "\r\n")); err != nil {
				return "", err
			}
		}
		s, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(s, "+OK") {
			return "", fmt.Errorf("%s: %s", strings.Fields(line + " greeting")[0], strings.TrimSpace(s))
		}
		return s, nil
	}
	if _, err := cmd(""); err != nil {
		return err
	}
	if _, err := cmd("USER " + user); err != nil {
		return err
	}
	if _, err := cmd("PASS " + pw); err != nil {
		return err
	}
	stat, err := cmd("STAT")
	if err != nil {
		return err
	}
	var n int
	fmt.Sscanf(stat, "+OK %d", &n)
	for i := 1; i <= n; i++ {
		if _, err := cmd(fmt.Sprintf("DELE %d", i)); err != nil {
			return err
		}
	}
	_, err = cmd("QUIT")
	return err
}

// checkUntil asks the account for a check and waits for the snapshot cond
// holds in.
func checkUntil(t *testing.T, m *Manager, sub <-chan Snapshot, account, what string, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	if err := m.CheckNow(account); err != nil {
		t.Fatal(err)
	}
	return waitSnap(t, sub, what, cond)
}

// TestServersCoreCount runs the core count scenarios against each server:
// IMAP new mail, mark-read, read elsewhere, restart, UIDVALIDITY change
// (loud re-baseline of an unkeyed dismissal, then keyed dismissals that
// follow their mail); POP3 baseline, new mail, delete elsewhere, mark-read,
// restart.
func TestServersCoreCount(t *testing.T) {
	for _, server := range mailServers {
		t.Run(server.name, func(t *testing.T) {
			// A server each: Dovecot may miss a user added within the
			// second it last read its users file.
			t.Run("imap", func(t *testing.T) { coreIMAP(t, server.start(t)) })
			t.Run("pop3", func(t *testing.T) { corePOP3(t, server.start(t)) })
		})
	}
}

func coreIMAP(t *testing.T, srv mailServer) {
	user, pw := srv.addUser(t)
	a := serverAccount(srv, "imap", accounts.IMAP, user)
	logs := &testenv.LogBuffer{}
	opts := func(accounts.Account) *Options {
		return &Options{RootCAs: srv.rootCAs(), Password: func(context.Context) (string, error) { return pw, nil },
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("DEBUG log:\n%s", logs)
		}
	})
	dir := t.TempDir()
	// A dismissal from before dismissals were keyed, under a UIDVALIDITY
	// the server does not have: the folder re-baselines, loudly.
	store := mustOpenStore(t, dir)
	store.Update("imap", func(s *seen.Account) {
		s.Baselined = true
		s.IDs["INBOX/1/1"] = ""
	})
	if err := store.Save(); err != nil {
		t.Fatal(err)
	}
	srv.deliver(t, user, noIDMessage("Old <old@example.com>", "old"))
	mo := ManagerOptions{Accounts: []accounts.Account{a}, Store: store, CheckerOptions: opts, Logger: logger}
	m, sub, stop := startManager(t, mo)
	s := waitSnap(t, sub, "0 new after the re-baseline", newCount("imap", 0))
	if n := s.Accounts[0].Notice; !strings.Contains(n, "UIDVALIDITY") || !strings.Contains(n, "INBOX (1)") {
		t.Errorf("notice = %q, want the re-baseline of INBOX (1) explained", n)
	}
	if !strings.Contains(logs.String(), "now counts as dismissed") {
		t.Errorf("the re-baseline was not logged:\n%s", logs)
	}

	// Mail that arrives after the re-baseline counts.
	srv.deliver(t, user, noIDMessage("Ann <ann@example.com>", "one"))
	checkUntil(t, m, sub, "imap", "1 new", newCount("imap", 1))
	srv.deliver(t, user, testenv.Message("Bob <bob@example.com>", "two", "x"))
	shown := checkUntil(t, m, sub, "imap", "2 new", newCount("imap", 2))
	if n, err := m.MarkRead(context.Background(), shown, "imap"); err != nil || n != 2 {
		t.Fatalf("MarkRead = %d, %v; want 2", n, err)
	}
	waitSnap(t, sub, "0 new after mark read", newCount("imap", 0))
	// Dismissed mail stays dismissed at the next check (on Mailutils it
	// has new UIDs by then).
	checkUntil(t, m, sub, "imap", "0 new at the next check", func(s Snapshot) bool {
		return newCount("imap", 0)(s) && s.Accounts[0].Unread == 3
	})
	// More dismissed at once than a snapshot describes (MaxMails): each
	// dismissal still follows its mail.
	for i := range MaxMails + 2 {
		srv.deliver(t, user, noIDMessage("Bulk <bulk@example.com>", fmt.Sprintf("bulk %d", i)))
	}
	shown = checkUntil(t, m, sub, "imap", "the bulk new", newCount("imap", MaxMails+2))
	if n, err := m.MarkRead(context.Background(), shown, "imap"); err != nil || n != MaxMails+2 {
		t.Fatalf("MarkRead = %d, %v; want %d", n, err, MaxMails+2)
	}
	for i := range 2 {
		checkUntil(t, m, sub, "imap", fmt.Sprintf("0 new at check %d after the bulk", i+1), func(s Snapshot) bool {
			return newCount("imap", 0)(s) && s.Accounts[0].Unread == 3+MaxMails+2
		})
	}

	// Read elsewhere: it drops.
	srv.deliver(t, user, noIDMessage("Cy <cy@example.com>", "three"))
	checkUntil(t, m, sub, "imap", "1 new", newCount("imap", 1))
	readElsewhere(t, srv, user, pw, "three")
	checkUntil(t, m, sub, "imap", "0 new after reading elsewhere", func(s Snapshot) bool {
		return newCount("imap", 0)(s) && s.Accounts[0].Unread == 3+MaxMails+2
	})
	srv.deliver(t, user, noIDMessage("Dee <dee@example.com>", "four"))
	before := checkUntil(t, m, sub, "imap", "1 new", newCount("imap", 1))
	stop()

	// Restart, on a new UIDVALIDITY: the dismissals follow their mail by
	// Message-ID or digest, without a re-baseline; the undismissed mail
	// and mail that arrives later count.
	srv.newUIDValidity(t, user)
	logs2 := &testenv.LogBuffer{}
	mo.Store, mo.Logger = mustOpenStore(t, dir), slog.New(slog.NewTextHandler(logs2, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("DEBUG log after the restart:\n%s", logs2)
		}
	})
	m2, sub2, stop2 := startManager(t, mo)
	s = waitSnap(t, sub2, "1 new after the restart", newCount("imap", 1))
	if got := s.Accounts[0].Mails; len(got) != 1 || got[0].Subject != "four" {
		t.Errorf("after the restart: mails %+v, want four", got)
	}
	if n := s.Accounts[0].Notice; n != "" {
		t.Errorf("notice after the UIDVALIDITY change = %q, want none (every dismissal is keyed)", n)
	}
	_, v1, _, _ := ParseIMAPID(before.Accounts[0].NewIDs[0])
	_, v2, _, _ := ParseIMAPID(s.Accounts[0].NewIDs[0])
	_, dovecot := srv.(dovecotServer)
	switch {
	case v1 != v2 && !strings.Contains(logs2.String(), "dismissals followed"):
		t.Errorf("the UIDVALIDITY change was not logged:\n%s", logs2)
	case v1 == v2 && dovecot:
		t.Errorf("UIDVALIDITY %d did not change", v1)
	case v1 == v2:
		// Mailutils rewrites its properties file from concurrent
		// sessions and takes a new UIDVALIDITY from the clock's
		// second, which may be the old one again.
		t.Logf("the server went back to UIDVALIDITY %d", v1)
	}
	srv.deliver(t, user, noIDMessage("Eve <eve@example.com>", "five"))
	checkUntil(t, m2, sub2, "imap", "2 new", newCount("imap", 2))
	stop2()
}

func corePOP3(t *testing.T, srv mailServer) {
	user, pw := srv.addUser(t)
	a := serverAccount(srv, "pop", accounts.POP3, user)
	opts := func(accounts.Account) *Options {
		return &Options{RootCAs: srv.rootCAs(), Password: func(context.Context) (string, error) { return pw, nil }}
	}
	dir := t.TempDir()
	srv.deliver(t, user, testenv.Message("Ann <ann@example.com>", "p1", "x"))
	srv.deliver(t, user, noIDMessage("Bob <bob@example.com>", "p2"))
	mo := ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, dir), CheckerOptions: opts}
	m, sub, stop := startManager(t, mo)
	waitSnap(t, sub, "0 new: the first check is the baseline", newCount("pop", 0))
	srv.deliver(t, user, noIDMessage("Cy <cy@example.com>", "p3"))
	checkUntil(t, m, sub, "pop", "1 new", newCount("pop", 1))
	deleteElsewhere(t, srv, user, pw)
	checkUntil(t, m, sub, "pop", "0 new after deleting elsewhere", newCount("pop", 0))
	srv.deliver(t, user, testenv.Message("Dee <dee@example.com>", "p4", "x"))
	shown := checkUntil(t, m, sub, "pop", "1 new", newCount("pop", 1))
	if n, err := m.MarkRead(context.Background(), shown, "pop"); err != nil || n != 1 {
		t.Fatalf("MarkRead = %d, %v; want 1", n, err)
	}
	waitSnap(t, sub, "0 new after mark read", newCount("pop", 0))
	stop()

	mo.Store = mustOpenStore(t, dir)
	m2, sub2, stop2 := startManager(t, mo)
	waitSnap(t, sub2, "0 new after the restart", newCount("pop", 0))
	srv.deliver(t, user, noIDMessage("Eve <eve@example.com>", "p5"))
	checkUntil(t, m2, sub2, "pop", "1 new after the restart", newCount("pop", 1))
	stop2()
}
