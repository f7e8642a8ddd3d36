package poller

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// panicky is a checker whose first Check panics, as a parser bug met with
// hostile data would; the next checker works.
type panicky struct {
	panics bool
}

func (p *panicky) Check(ctx context.Context, q Query) (*Inbox, error) {
	if p.panics {
		fields := strings.Fields("1") // a real runtime panic: index out of range
		_ = fields[len(fields)]
	}
	return &Inbox{IDs: []string{"a"}, Unread: -1}, nil
}

func (p *panicky) Wait(ctx context.Context, d time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (p *panicky) Close() error { return nil }

// TestManagerSurvivesCheckerPanic: a panic in a check is that account's
// error, not the end of the app, and a fresh checker takes over.
func TestManagerSurvivesCheckerPanic(t *testing.T) {
	var made atomic.Int32
	a := accounts.Account{Name: "p", Protocol: accounts.POP3, Host: "h", Username: "u", CountExisting: true}.WithDefaults()
	_, sub, stop := startManager(t, ManagerOptions{
		Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return &panicky{panics: made.Add(1) == 1} },
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
	})
	s := waitSnap(t, sub, "the panic as an error", func(s Snapshot) bool { return s.Errors() == 1 })
	if e := s.Accounts[0].Err; e.Kind != KindProtocol || !strings.Contains(e.Msg, "internal error") {
		t.Errorf("error %v, want an internal-error protocol error", e)
	}
	waitSnap(t, sub, "the new checker's count", newCount("p", 1))
	stop()
	if n := made.Load(); n != 2 {
		t.Errorf("%d checkers made, want 2 (the panicked one replaced once)", n)
	}
}
