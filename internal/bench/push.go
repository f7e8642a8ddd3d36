//go:build linux

package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/poller"
	"mailsneaker/seen"
)

// watched is a Manager running on its own state dir, with its snapshots.
type watched struct {
	m      *poller.Manager
	sub    <-chan poller.Snapshot
	last   poller.Snapshot
	meter  *meter
	cancel context.CancelFunc
	done   chan error
}

func startManager(ctx context.Context, s *server, stateDir string, users map[string]mailUser, accts []accounts.Account, log *slog.Logger) (*watched, error) {
	store, err := seen.Open(stateDir)
	if err != nil {
		return nil, err
	}
	w := &watched{meter: &meter{}, done: make(chan error, 1)}
	w.m = poller.NewManager(poller.ManagerOptions{
		Accounts: accts,
		Store:    store,
		Logger:   log,
		CheckerOptions: func(a accounts.Account) *poller.Options {
			o := s.options(users[a.Name], w.meter)
			o.Logger = log
			return o
		},
	})
	ctx, w.cancel = context.WithCancel(ctx)
	w.sub = w.m.Snapshots(ctx)
	go func() { w.done <- w.m.Run(ctx) }()
	return w, nil
}

func (w *watched) stop() error {
	w.cancel()
	return <-w.done
}

// waitFor reads snapshots until cond holds or d passes.
func (w *watched) waitFor(d time.Duration, what string, cond func(poller.Snapshot) bool) error {
	if cond(w.last) {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case s := <-w.sub:
			w.last = s
			if cond(s) {
				return nil
			}
		case <-t.C:
			return fmt.Errorf("timed out after %s waiting for %s; last snapshot: %s", d, what, describe(w.last))
		}
	}
}

func describe(s poller.Snapshot) string {
	ok, bad := 0, ""
	for _, a := range s.Accounts {
		switch a.State {
		case poller.StateOK:
			ok++
		case poller.StateError:
			bad = fmt.Sprintf("; %s: %v", a.Name, a.Err)
		}
	}
	return fmt.Sprintf("seq %d, %d/%d accounts OK%s", s.Seq, ok, len(s.Accounts), bad)
}

func allOK(s poller.Snapshot) bool {
	for _, a := range s.Accounts {
		if a.State != poller.StateOK {
			return false
		}
	}
	return len(s.Accounts) > 0
}

func newOf(s poller.Snapshot, name string) int {
	for _, a := range s.Accounts {
		if a.Name == name {
			return a.New
		}
	}
	return -1
}

// target is where one push-latency delivery goes.
type target struct{ user, folder string }

// pushLatency delivers one mail to each target through doveadm save and
// measures from the start of the delivery to the snapshot that counts it.
// The gaps between deliveries are random, so that the phase of Dovecot's
// notification batching is too.
func (w *watched) pushLatency(s *server, targets []target, rng *rand.Rand) ([]time.Duration, error) {
	var lat []time.Duration
	for i, t := range targets {
		want := newOf(w.last, t.user) + 1
		start := time.Now()
		if err := s.deliver(t.user, t.folder, message(fmt.Sprintf("push %d", i))); err != nil {
			return lat, err
		}
		err := w.waitFor(15*time.Second, fmt.Sprintf("delivery %d to %s/%s", i, t.user, t.folder), func(sn poller.Snapshot) bool {
			return newOf(sn, t.user) >= want
		})
		if err != nil {
			return lat, err
		}
		lat = append(lat, time.Since(start))
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
	}
	return lat, nil
}

// pushResult is P1.
type pushResult struct {
	latencies []time.Duration
}

// benchPush runs P1: one IMAP account with IDLE, poll interval 1h.
func benchPush(ctx context.Context, s *server, u mailUser, stateDir string, deliveries int, log *slog.Logger) (pushResult, error) {
	var r pushResult
	w, err := startManager(ctx, s, stateDir, map[string]mailUser{u.name: u},
		[]accounts.Account{s.account(accounts.IMAP, accounts.TLS, u)}, log)
	if err != nil {
		return r, err
	}
	defer w.stop()
	if err := w.waitFor(30*time.Second, "the first check", allOK); err != nil {
		return r, err
	}
	// The IDLE connection opens after the first check: 1 check + 1 IDLE.
	if err := waitDials(w.meter, 2, 30*time.Second); err != nil {
		return r, err
	}
	time.Sleep(time.Second)
	targets := make([]target, deliveries)
	for i := range targets {
		targets[i] = target{u.name, "INBOX"}
	}
	r.latencies, err = w.pushLatency(s, targets, rand.New(rand.NewPCG(1, 1)))
	return r, err
}

func waitDials(m *meter, n int64, d time.Duration) error {
	deadline := time.Now().Add(d)
	for m.dials.Load() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d connections opened in %s", m.dials.Load(), n, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// manyResult is P6.
type manyResult struct {
	accounts, folders int
	round             time.Duration // Run start → every account StateOK
	steady            time.Duration // CheckNow → every account checked again
	idleOpen          time.Duration // Run start → every IDLE connection dialed
	dials             int64
	redials           int64 // connections opened during the push test (should be 0)
	latencies         []time.Duration
	inotify           []string // Dovecot's warnings about inotify limits
}

var manyFolders = []string{"INBOX", "Lists", "Archive", "Work"}

// benchMany runs P6: many accounts with several folders each, all IDLE.
func benchMany(ctx context.Context, s *server, users []mailUser, stateDir string, deliveries int, log *slog.Logger) (manyResult, error) {
	r := manyResult{accounts: len(users), folders: len(manyFolders)}
	byName := map[string]mailUser{}
	var accts []accounts.Account
	for _, u := range users {
		byName[u.name] = u
		accts = append(accts, s.account(accounts.IMAP, accounts.TLS, u, manyFolders...))
	}
	start := time.Now()
	w, err := startManager(ctx, s, stateDir, byName, accts, log)
	if err != nil {
		return r, err
	}
	defer w.stop()
	if err := w.waitFor(60*time.Second, "every account's first check", allOK); err != nil {
		return r, err
	}
	r.round = time.Since(start)
	want := int64(len(users) * (1 + len(manyFolders)))
	if err := waitDials(w.meter, want, 60*time.Second); err != nil {
		return r, err
	}
	r.idleOpen = time.Since(start)
	time.Sleep(3 * time.Second) // EXAMINE and IDLE follow the dial
	r.dials = w.meter.dials.Load()

	// A steady-state round on the kept connections.
	t0 := time.Now()
	w.m.CheckNow("")
	if err := w.waitFor(60*time.Second, "a second round", func(sn poller.Snapshot) bool {
		for _, a := range sn.Accounts {
			if a.State != poller.StateOK || !a.Checked.After(t0) {
				return false
			}
		}
		return true
	}); err != nil {
		return r, err
	}
	r.steady = time.Since(t0)
	time.Sleep(time.Second)

	rng := rand.New(rand.NewPCG(6, 6))
	targets := make([]target, deliveries)
	for i := range targets {
		targets[i] = target{users[rng.IntN(len(users))].name, manyFolders[rng.IntN(len(manyFolders))]}
	}
	r.latencies, err = w.pushLatency(s, targets, rng)
	r.inotify = s.logHas("notify")
	r.redials = w.meter.dials.Load() - r.dials
	return r, err
}
