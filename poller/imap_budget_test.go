package poller

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/seen"
)

// connCounter is an Options.Dial that counts the account's open
// connections and keeps the most ever open at once. A connection counts
// from before its dial until its first Close.
type connCounter struct {
	mu                  sync.Mutex
	open, peak, dialled int
}

func (c *connCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c.mu.Lock()
	c.open++
	c.dialled++
	c.peak = max(c.peak, c.open)
	c.mu.Unlock()
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		c.release()
		return nil, err
	}
	return &countedConn{Conn: conn, c: c}, nil
}

func (c *connCounter) release() {
	c.mu.Lock()
	c.open--
	c.mu.Unlock()
}

func (c *connCounter) stats() (open, peak, dialled int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open, c.peak, c.dialled
}

type countedConn struct {
	net.Conn
	c    *connCounter
	once sync.Once
}

func (cc *countedConn) Close() error {
	cc.once.Do(cc.c.release)
	return cc.Conn.Close()
}

// otherClient is another mail client of the same user: it holds its own
// connections, as a desktop client does, and files mail into folders.
type otherClient struct {
	t     testing.TB
	conns []*imapclient.Client
}

func dialOtherClient(t testing.TB, d *testenv.Dovecot, user, pw string, n int) *otherClient {
	t.Helper()
	oc := &otherClient{t: t}
	for range n {
		c, err := imapclient.DialTLS(d.Addr(d.IMAPS), &imapclient.Options{TLSConfig: d.TLSConfig()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Login(user, pw).Wait(); err != nil {
			t.Fatal(err)
		}
		oc.conns = append(oc.conns, c)
	}
	return oc
}

func (oc *otherClient) create(folder string) {
	oc.t.Helper()
	if err := oc.conns[0].Create(folder, nil).Wait(); err != nil {
		oc.t.Fatalf("CREATE %s: %v", folder, err)
	}
}

func (oc *otherClient) delete(folder string) {
	oc.t.Helper()
	if err := oc.conns[0].Delete(folder).Wait(); err != nil {
		oc.t.Fatalf("DELETE %s: %v", folder, err)
	}
}

func (oc *otherClient) append(folder, subject string) {
	oc.t.Helper()
	msg := testenv.Message("Ann <ann@example.com>", subject, "x")
	cmd := oc.conns[0].Append(folder, int64(len(msg)), nil)
	if _, err := cmd.Write(msg); err != nil {
		oc.t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		oc.t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		oc.t.Fatalf("APPEND %s: %v", folder, err)
	}
}

// budgetDovecot is a Dovecot user with INBOX and 29 folders F01..F29, one
// unseen mail in each, plus junk, trash, sent and drafts folders (one mail
// each, not to be counted), and another client of the user holding 6
// connections.
func budgetDovecot(t testing.TB) (d *testenv.Dovecot, user, pw string, other *otherClient, folders []string) {
	t.Helper()
	d = testenv.StartDovecot(t)
	user, pw = d.AddUser(t)
	other = dialOtherClient(t, d, user, pw, 6)
	for i := 1; i <= 29; i++ {
		f := fmt.Sprintf("F%02d", i)
		folders = append(folders, f)
		other.create(f)
	}
	// Special by name (the test server marks no folder SPECIAL-USE): not watched.
	for _, f := range []string{"Junk", "Trash", "Sent", "Drafts"} {
		other.create(f)
		other.append(f, "not watched in "+f)
	}
	other.append("INBOX", "old in INBOX")
	for _, f := range folders {
		other.append(f, "old in "+f)
	}
	return d, user, pw, other, folders
}

// TestManagerIMAPConnectionBudget watches INBOX and 29 folders (folders =
// ["*"]) on a Dovecot with its default limit of 10 connections per user
// and IP, while another client holds 6 of them. Every folder counts, new
// mail shows by IDLE in INBOX and by the folder poll elsewhere, folders
// created and deleted on the server are followed, and the account never
// holds more than max_connections (3), not even across a server restart.
func TestManagerIMAPConnectionBudget(t *testing.T) {
	t.Parallel()
	d, user, pw, other, folders := budgetDovecot(t)

	a := dovecotAccount(d, "work", accounts.IMAP, user)
	a.Folders = []string{accounts.AllFolders}
	a.FolderPollInterval = time.Second // short for the test; the config allows 10s at least
	if a.MaxConnections != 3 {
		t.Fatalf("default max_connections = %d, want 3", a.MaxConnections)
	}
	var cc connCounter
	opts := func(acc accounts.Account) *Options {
		o := dovecotOptions(d, pw)(acc)
		o.Dial = cc.dial
		return o
	}
	var errs []string
	count := func(n int) func(Snapshot) bool {
		return func(s Snapshot) bool {
			for _, as := range s.Accounts {
				if as.State == StateError {
					errs = append(errs, as.Err.Error())
				}
			}
			return newCount("work", n)(s)
		}
	}
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		CheckerOptions: opts, BackoffMin: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond})

	s := waitSnap(t, sub, "all 30 folders counted", count(30)).Accounts[0]
	if s.Unread != 30 {
		t.Errorf("unread = %d, want 30 (the special folders must not count)", s.Unread)
	}
	if want := []string{"INBOX", "F01"}; !slices.Equal(s.Pushed, want) {
		t.Errorf("pushed = %q, want %q", s.Pushed, want)
	}
	if !slices.Equal(s.Polled, folders[1:]) {
		t.Errorf("polled = %q, want F02..F29", s.Polled)
	}

	other.append("INBOX", "new in INBOX")
	waitSnap(t, sub, "a new mail in INBOX", count(31))
	other.append("F29", "new in F29")
	waitSnap(t, sub, "a new mail in the 29th folder", count(32))

	other.create("Later")
	other.append("Later", "in a folder made later")
	s = waitSnap(t, sub, "a mail in a folder created later", count(33)).Accounts[0]
	if !slices.Contains(s.Polled, "Later") {
		t.Errorf("polled = %q, want Later among them", s.Polled)
	}
	other.delete("Later")
	s = waitSnap(t, sub, "the folder deleted again", count(32)).Accounts[0]
	if slices.Contains(s.Polled, "Later") {
		t.Errorf("polled = %q still holds the deleted folder", s.Polled)
	}
	// A pushed folder deleted: its IDLE connection ends, the next one
	// watches F02, and its mail no longer counts.
	other.delete("F01")
	shown := waitSnap(t, sub, "a pushed folder deleted", count(31))
	s = shown.Accounts[0]
	if want := []string{"INBOX", "F02"}; !slices.Equal(s.Pushed, want) {
		t.Errorf("pushed = %q after deleting F01, want %q", s.Pushed, want)
	}
	if len(errs) > 0 {
		t.Errorf("errors while within the limit: %q", errs)
	}
	_, peak, _ := cc.stats()
	if peak != 3 {
		t.Errorf("at most %d connections were open at once, want exactly max_connections = 3", peak)
	}

	// Mark read on server goes over the check connection: no fourth one.
	if n, err := m.MarkReadOnServer(context.Background(), shown, "work"); err != nil || n != 31 {
		t.Fatalf("MarkReadOnServer = %d, %v; want 31", n, err)
	}
	waitSnap(t, sub, "nothing new or unread after Mark read on server", func(s Snapshot) bool {
		return count(0)(s) && s.Accounts[0].Unread == 0
	})
	if _, peak, _ := cc.stats(); peak != 3 {
		t.Errorf("at most %d connections were open at once after Mark read on server, want 3", peak)
	}

	// A server restart drops every connection; reconnecting stays within
	// the budget, and mail that came meanwhile counts.
	d.Stop(t)
	d.Start(t)
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "after the restart", "x"))
	waitSnap(t, sub, "a new mail after the restart", newCount("work", 1))
	stop()
	open, peak, dialled := cc.stats()
	if peak > 3 {
		t.Errorf("%d connections were open at once, over max_connections = 3", peak)
	}
	if open != 0 {
		t.Errorf("%d connections still open after Run returned", open)
	}
	t.Logf("%d connections dialled in all, at most %d at once", dialled, peak)
}

// TestSoakIMAPConnectionBudget keeps the 30-folder account of
// TestManagerIMAPConnectionBudget running beside the other client's 6
// connections, with mail delivered in turn to INBOX (pushed) and to a
// polled folder up to the 29th: every mail shows, a polled one within
// folder_poll_interval (and the time one check takes), no check fails, and
// the account never holds more than max_connections, counted at the dial
// and in every sample of the server's own list (doveadm who). 20
// deliveries with a 1 s folder poll; 10 minutes with the configurable
// minimum of 10 s under MAILSNEAKER_SOAK=1. The latencies are logged, not
// asserted beyond the poll interval: BenchmarkIMAPFolders30 measures them.
func TestSoakIMAPConnectionBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("a long run")
	}
	t.Parallel()
	interval, deliveries, until := time.Second, 20, time.Time{}
	if testenv.Soak() {
		interval, deliveries, until = accounts.MinFolderPollInterval, 1<<30, time.Now().Add(10*time.Minute)
	}
	r := runFolders30(t, interval, deliveries, until, false)
	if len(r.errs) > 0 {
		t.Errorf("%d error snapshots, the first: %s", len(r.errs), r.errs[0])
	}
	if r.peakDial > 3 || r.open != 0 {
		t.Errorf("at most %d connections at once (want ≤ 3), %d still open after Run returned", r.peakDial, r.open)
	}
	if r.peakServer > 3 {
		t.Errorf("the server listed %d connections of the account in one sample, over max_connections = 3", r.peakServer)
	}
	if r.samples == 0 {
		t.Error("no sample of the server's connection list was taken")
	}
	// One poll interval, plus one check of 30 folders: the slack is for
	// the check on a loaded machine, not a speed aim.
	const checkSlack = time.Second
	if worst := slices.Max(r.polled); worst > interval+checkSlack {
		t.Errorf("a mail in a polled folder took %v to show, over folder_poll_interval %v (+%v for the check)", worst, interval, checkSlack)
	}
	t.Logf("%d mails; pushed (INBOX) median %v max %v; polled (F02..F29, every %v) median %v max %v; "+
		"%d connections dialled, at most %d at once; the server listed at most %d in %d samples",
		len(r.pushed)+len(r.polled), median(r.pushed), slices.Max(r.pushed), interval, median(r.polled), slices.Max(r.polled),
		r.dialled, r.peakDial, r.peakServer, r.samples)
}

// BenchmarkIMAPFolders30 is benchmark P7: the 30-folder account beside
// another client's 6 connections, b.N deliveries in turn to INBOX (IDLE)
// and to a polled folder (folder_poll_interval 2 s, the figure scales with
// it; the mail arrives at a random point of the interval): the latency of
// each kind and the connections held.
func BenchmarkIMAPFolders30(b *testing.B) {
	const interval = 2 * time.Second
	b.StopTimer()
	r := runFolders30(b, interval, max(b.N, 2), time.Time{}, true)
	if len(r.errs) > 0 {
		b.Errorf("%d error snapshots, the first: %s", len(r.errs), r.errs[0])
	}
	b.ReportMetric(median(r.pushed).Seconds(), "pushed-median-s")
	b.ReportMetric(slices.Max(r.pushed).Seconds(), "pushed-max-s")
	b.ReportMetric(median(r.polled).Seconds(), "polled-median-s")
	b.ReportMetric(slices.Max(r.polled).Seconds(), "polled-max-s")
	b.ReportMetric(float64(r.peakDial), "conns-peak")
	b.ReportMetric(float64(r.peakServer), "conns-server-peak")
	b.ReportMetric(0, "ns/op")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// folders30Run is what runFolders30 saw.
type folders30Run struct {
	pushed, polled []time.Duration // delivery → shown in a snapshot
	open, peakDial int             // connections open after Run returned; most open at once (counted at the dial)
	dialled        int
	peakServer     int // most connections of the account in one doveadm who sample
	samples        int
	errs           []string // error snapshots
}

// runFolders30 runs the account of TestManagerIMAPConnectionBudget with the
// given folder poll interval and delivers mail in turn to INBOX and to the
// polled folders F02..F29 (the 29th among them), deliveries times or
// until the deadline, whichever comes first.
//
// With atRandom, a mail for a polled folder is delivered at a random point
// of the poll interval, as mail arrives, rather than right after the poll
// that showed the previous one (the worst case, which the soak holds).
func runFolders30(tb testing.TB, interval time.Duration, deliveries int, until time.Time, atRandom bool) folders30Run {
	d, user, pw, other, folders := budgetDovecot(tb)
	a := dovecotAccount(d, "work", accounts.IMAP, user)
	a.Folders = []string{accounts.AllFolders}
	a.FolderPollInterval = interval
	var cc connCounter
	var r folders30Run
	opts := func(acc accounts.Account) *Options {
		o := dovecotOptions(d, pw)(acc)
		o.Dial = cc.dial
		return o
	}
	store, err := seen.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	m := NewManager(ManagerOptions{Accounts: []accounts.Account{a}, Store: store, CheckerOptions: opts})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := m.Snapshots(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	// Sample the server's list of the user's connections; the other
	// client holds 6 of them throughout.
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			if n, ok := dovecotWho(d, user); ok {
				r.samples++
				r.peakServer = max(r.peakServer, n-len(other.conns))
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()

	waitCount := func(what string, n int) {
		tb.Helper()
		deadline := time.After(max(30*time.Second, 3*interval))
		for {
			select {
			case s, ok := <-sub:
				if !ok {
					tb.Fatalf("the subscription ended while waiting for %s", what)
				}
				for _, as := range s.Accounts {
					if as.State == StateError {
						r.errs = append(r.errs, as.Err.Error())
					}
				}
				if newCount("work", n)(s) {
					return
				}
			case <-deadline:
				tb.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitCount("all 30 folders counted", 30)
	n := 30
	for i := 0; i < deliveries && (until.IsZero() || time.Now().Before(until)); i++ {
		f := "INBOX"
		if i%2 == 1 {
			f = folders[len(folders)-1-(i/2)%(len(folders)-1)] // F29, F28, ... F02: polled
			if atRandom {
				time.Sleep(rand.N(interval)) // when the mail arrives, not a wait for anything
			}
		}
		other.append(f, fmt.Sprintf("mail %d", i))
		start := time.Now()
		n++
		waitCount(fmt.Sprintf("mail %d in %s", i, f), n)
		if f == "INBOX" {
			r.pushed = append(r.pushed, time.Since(start))
		} else {
			r.polled = append(r.polled, time.Since(start))
		}
	}
	close(stopSampling)
	<-sampled
	cancel()
	select {
	case err := <-done:
		if err != nil {
			tb.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		tb.Fatal("Run did not return after cancel")
	}
	r.open, r.peakDial, r.dialled = cc.stats()
	return r
}

// dovecotWho counts user's connections in Dovecot's own list.
func dovecotWho(d *testenv.Dovecot, user string) (int, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "doveadm", "-c", filepath.Join(d.Dir, "dovecot.conf"), "who", "-1").Output()
	if err != nil {
		return 0, false
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == user {
			n++
		}
	}
	return n, true
}
