package wake_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
	"mailsneaker/seen"
)

// managerRun is the real manager running one IMAP account, started by
// runManager.
type managerRun struct {
	ctx    context.Context // ends when the run is stopped or the test ends
	m      *poller.Manager
	snaps  <-chan poller.Snapshot // its snapshots since it started
	cancel context.CancelFunc
	done   chan error // Run's return
}

// runManager runs the real manager, with a fresh seen store, for one IMAP
// account "work" that logs in to addr (host:port, implicit TLS trusting
// d's certificate) as user with pw, and polls hourly (so that only IDLE,
// reconnects and backoff make it check again). It runs until stop or the
// end of the test.
func runManager(t testing.TB, d *testenv.Dovecot, addr, user, pw string) *managerRun {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	a := accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: host, Port: n,
		Security: accounts.TLS, Username: user, PollInterval: time.Hour}.WithDefaults()
	store, err := seen.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := poller.NewManager(poller.ManagerOptions{Accounts: []accounts.Account{a}, Store: store,
		CheckerOptions: func(accounts.Account) *poller.Options {
			return &poller.Options{RootCAs: d.RootCAs, Password: func(context.Context) (string, error) { return pw, nil }}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &managerRun{ctx: ctx, m: m, snaps: m.Snapshots(ctx), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx) }()
	return r
}

// stop ends the run and fails the test if Run returned an error.
func (r *managerRun) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
