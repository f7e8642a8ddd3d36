package poller

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/seen"
)

// TestSoakDovecotRestarts restarts Dovecot again and again under a running
// Manager with an IMAP account (IDLE) and a POP3 account: after every
// restart both accounts come back to StateOK with the true counts, from a
// check against the new server; mail delivered after a restart reaches the
// IMAP account through its new IDLE connection, without a poke; mail read
// elsewhere drops out. When the manager stops, its goroutines and file
// descriptors are all gone. 20 restarts (each step below runs at least
// once), 100 with MAILSNEAKER_SOAK=1.
func TestSoakDovecotRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts Dovecot many times")
	}
	restarts := 20
	if testenv.Soak() {
		restarts = 100
	}
	d := testenv.StartDovecot(t)
	iu, ipw := d.AddUser(t)
	pu, ppw := d.AddUser(t)
	pws := map[string]string{iu: ipw, pu: ppw}
	store, err := seen.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	logs := &countingHandler{n: map[string]int{}}
	imapAcct := accounts.Account{Name: "imap", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: d.IMAPS,
		Security: accounts.TLS, Username: iu, PollInterval: time.Hour}.WithDefaults()
	popAcct := accounts.Account{Name: "pop", Protocol: accounts.POP3, Host: "127.0.0.1", Port: d.POP3S,
		Security: accounts.TLS, Username: pu, PollInterval: time.Hour}.WithDefaults()

	fdsBefore := openFDs(t)
	ignore := goleak.IgnoreCurrent()
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{imapAcct, popAcct}, Store: store,
		Logger: slog.New(logs), BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		CheckerOptions: func(a accounts.Account) *Options {
			return &Options{RootCAs: d.RootCAs, Timeout: 10 * time.Second, Logger: slog.New(logs),
				Password: func(context.Context) (string, error) { return pws[a.Username], nil }}
		}})

	delivered, flagged := 0, 0 // mails per account; IMAP mails flagged \Seen elsewhere
	acct := func(s Snapshot, name string) AccountSnapshot {
		for _, a := range s.Accounts {
			if a.Name == name {
				return a
			}
		}
		return AccountSnapshot{}
	}
	// settled: both accounts checked the server after since, with the true counts.
	settled := func(since time.Time) func(Snapshot) bool {
		return func(s Snapshot) bool {
			i, p := acct(s, "imap"), acct(s, "pop")
			return i.State == StateOK && p.State == StateOK && i.Checked.After(since) && p.Checked.After(since) &&
				i.New == delivered-flagged && i.Unread == delivered-flagged && p.New == delivered
		}
	}
	waitSnap(t, sub, "the first checks", settled(time.Time{}))
	waitFor(t, "the first IDLE", func() bool { return logs.count("imap IDLE started") > 0 })

	start := time.Now()
	var slowest time.Duration
	for r := 1; r <= restarts; r++ {
		idles := logs.count("imap IDLE started")
		d.Stop(t)
		d.Start(t)
		restarted := time.Now()
		m.CheckNow("")
		waitSnap(t, sub, fmt.Sprintf("both accounts back after restart %d", r), settled(restarted))
		// Every restart breaks a running IDLE, not one still connecting.
		waitFor(t, fmt.Sprintf("IDLE again after restart %d", r), func() bool { return logs.count("imap IDLE started") > idles })
		slowest = max(slowest, time.Since(restarted))
		if r%10 != 0 {
			continue
		}
		// The IDLE connection alone must bring the IMAP mail (no poke);
		// POP3 is polled, so it is poked.
		d.Deliver(t, iu, testenv.Message("Ann <ann@example.com>", "after restart "+strconv.Itoa(r), "x"))
		d.Deliver(t, pu, testenv.Message("Ann <ann@example.com>", "after restart "+strconv.Itoa(r), "x"))
		delivered++
		m.CheckNow("pop")
		waitSnap(t, sub, fmt.Sprintf("the mail of restart %d", r), settled(restarted))
		if r%20 == 0 {
			// Read elsewhere: no longer new, through IDLE too (FETCH).
			d.Doveadm(t, "flags", "add", "-u", iu, `\Seen`, "mailbox", "INBOX", "uid", strconv.Itoa(delivered))
			flagged++
			waitSnap(t, sub, fmt.Sprintf("the mail read elsewhere after restart %d", r), settled(restarted))
		}
	}
	took := time.Since(start)
	stop()
	// Dovecot's own waiter goroutine is the test's, not the manager's.
	d.Stop(t)
	goleak.VerifyNone(t, ignore)
	var fdsAfter int
	waitFor(t, "file descriptors back to the baseline", func() bool {
		fdsAfter = openFDs(t)
		return fdsAfter <= fdsBefore+2
	})
	t.Logf("%d restarts in %s (slowest recovery %s): %d mails delivered, %d read elsewhere; %d IDLE starts, %d check failures logged; open fds %d before, %d after",
		restarts, took.Round(time.Second), slowest.Round(time.Millisecond), delivered, flagged,
		logs.count("imap IDLE started"), logs.count("account check failed"), fdsBefore, fdsAfter)
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(des)
}

// countingHandler is a slog.Handler that counts the records by message.
type countingHandler struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.n[r.Message]++
	h.mu.Unlock()
	return nil
}

func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

func (h *countingHandler) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[msg]
}
