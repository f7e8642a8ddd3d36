package poller

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/seen"
)

// Backoff bounds: the first retry after an error waits about backoffMin,
// doubling up to backoffMax, each with ±20 % jitter.
const (
	backoffMin = 5 * time.Second
	backoffMax = 5 * time.Minute
)

// ManagerOptions configure a Manager. Store is required.
type ManagerOptions struct {
	Accounts []accounts.Account
	Store    *seen.Store
	// NewChecker makes the checker of an account; nil means NewIMAP/NewPOP3
	// with CheckerOptions.
	NewChecker func(a accounts.Account) Checker
	// CheckerOptions gives the Options of an account's checker (password
	// source, timeouts); used when NewChecker is nil.
	CheckerOptions func(a accounts.Account) *Options
	Logger         *slog.Logger
	// BackoffMin and BackoffMax override the retry bounds (tests).
	BackoffMin, BackoffMax time.Duration
	// Tick is how often the manager looks for a clock jump (suspend) and
	// for changes another process made to the seen set; 0 means 30s.
	Tick time.Duration
}

func (o *ManagerOptions) tick() time.Duration {
	if o.Tick <= 0 {
		return 30 * time.Second
	}
	return o.Tick
}

// Manager runs one goroutine per account (check → wait → check), owns the
// seen set and the latest result of every account, and publishes immutable
// Snapshots. Other goroutines talk to it only through its methods, which
// send it commands; a command that must happen in order with another is one
// command (SetAccounts), never two.
type Manager struct {
	o    ManagerOptions
	log  *slog.Logger
	cmds chan func(*state)
	// stopping is closed when Run starts to shut down: from then on every
	// command answers ErrStopped, while Run still waits for the accounts.
	stopping chan struct{}

	subMu sync.Mutex
	subs  map[chan Snapshot]func() bool // subscription → stop its ctx watch
	last  Snapshot
	ended bool // Run returned: a new subscription is closed at once
}

// NewManager returns a manager for o; Run starts it.
func NewManager(o ManagerOptions) *Manager {
	if o.BackoffMin <= 0 {
		o.BackoffMin = backoffMin
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = backoffMax
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{o: o, log: log, cmds: make(chan func(*state)), stopping: make(chan struct{}),
		subs: map[chan Snapshot]func() bool{}}
}

func (m *Manager) checker(a accounts.Account) Checker {
	if m.o.NewChecker != nil {
		return m.o.NewChecker(a)
	}
	var o *Options
	if m.o.CheckerOptions != nil {
		o = m.o.CheckerOptions(a)
	}
	return newChecker(a, o)
}

// Run checks every account until ctx is done, then closes every connection
// and saves the seen set. Call it once. When it returns, every snapshot
// subscription is closed.
func (m *Manager) Run(ctx context.Context) error {
	defer m.endSubscriptions()
	st := m.newState(ctx)
	if msg := st.store.Recovered(); msg != "" {
		m.log.Warn("seen-mail state recovered", "detail", msg)
	}
	for _, name := range st.order {
		m.start(st, st.accts[name])
	}
	m.publish(st)
	clock := time.NewTicker(m.o.tick())
	defer clock.Stop()
	lastWall := time.Now()
	for {
		select {
		case r := <-st.results:
			m.apply(st, r)
			m.publish(st)
		case cmd := <-m.cmds:
			cmd(st)
		case now := <-clock.C:
			// After a suspend the wall clock jumps past the monotonic one:
			// connections are likely dead, so reconnect and check at once
			// (the fallback where no system bus reports the wake-up).
			if drift := now.Round(0).Sub(lastWall.Round(0)) - now.Sub(lastWall); drift > 10*time.Second || drift < -10*time.Second {
				m.log.Info("clock jumped (suspend/resume?); reconnecting all accounts", "drift", drift)
				m.reconnect(st)
			}
			lastWall = now
			// Another process (mailsneaker mark-read) changed the seen set:
			// check again so the counts follow it.
			if st.reloadIfChanged(m.log) {
				for _, as := range st.accts {
					pokeAcct(as)
				}
			}
		case <-ctx.Done():
			close(m.stopping)
			for _, as := range st.accts {
				as.cancel()
			}
			// A check may take until its I/O deadline to notice the cancel;
			// meanwhile commands are refused (send sees stopping), and the
			// goroutines' results need no reader: they give up on ctx.
			st.wg.Wait()
			return st.store.Save()
		}
	}
}

// ErrStopped is returned by every command issued once Run is shutting down
// or has returned.
var ErrStopped = errors.New("poller: the manager has stopped")

// send hands cmd to the manager goroutine. It fails with ctx's error, or
// with ErrStopped once Run is shutting down; a cmd it handed over runs
// at once, on the manager goroutine.
func (m *Manager) send(ctx context.Context, cmd func(*state)) error {
	select {
	case m.cmds <- cmd:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-m.stopping:
		return ErrStopped
	}
}

// call runs fn on the manager goroutine and returns what it returned.
func call[T any](ctx context.Context, m *Manager, fn func(*state) T) (T, error) {
	reply := make(chan T, 1)
	if err := m.send(ctx, func(st *state) { reply <- fn(st) }); err != nil {
		var zero T
		return zero, err
	}
	// fn runs as soon as it is handed over, and the manager goroutine does
	// not stop halfway through a command: the reply is on its way.
	select {
	case v := <-reply:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
