package demo

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
	"mailsneaker/seen"
)

// TestDemoCountsChange runs the manager on the demo servers: the counts
// start at the seeded mail, grow as mail arrives and drop when the demo
// reads a mail "elsewhere".
func TestDemoCountsChange(t *testing.T) {
	dir := t.TempDir()
	d, err := Start(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	store, err := seen.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := poller.NewManager(poller.ManagerOptions{Accounts: d.Accounts, Store: store,
		CheckerOptions: func(accounts.Account) *poller.Options { return &poller.Options{Password: d.Password} }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := m.Snapshots(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	count := func(s poller.Snapshot, name string) int {
		for _, a := range s.Accounts {
			if a.Name == name && a.State == poller.StateOK {
				return a.New
			}
		}
		return -1
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		for {
			select {
			case s := <-sub:
				if count(s, "demo-imap") == 3 && count(s, "demo-pop3") == 2 {
					return true
				}
				if s.Errors() > 0 {
					t.Fatalf("demo account failed: %+v", s.Accounts)
				}
			default:
				return false
			}
		}
	}, "the demo's seeded counts (3 IMAP, 2 POP3)")
	d.Every = 20 * time.Millisecond
	go d.Run(ctx)
	changed := map[string]bool{} // "rose", "dropped"
	prevIMAP := 3
	testenv.Eventually(t, 30*time.Second, func() bool {
		for !changed["rose"] || !changed["dropped"] {
			select {
			case s := <-sub:
				n := count(s, "demo-imap")
				if n < 0 {
					continue
				}
				if n > 3 || count(s, "demo-pop3") > 2 {
					changed["rose"] = true
				}
				if n < prevIMAP {
					changed["dropped"] = true
				}
				prevIMAP = n
				// POP3 is polled: ask for checks so its new mail shows up too.
				m.CheckNow("demo-pop3")
			default:
				return false
			}
		}
		return true
	}, "the demo's counts to rise and drop (so far %v)", changed)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
