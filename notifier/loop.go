package notifier

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"mailsneaker/poller"
)

// Options configure Start. Batcher is required; the rest may be nil.
type Options struct {
	// Batcher decides which snapshots deserve a note. The caller keeps it
	// to apply changed settings (SetGeneral).
	Batcher *Batcher
	// Open opens mail m of account a: the newest mail the clicked note
	// covers, or, when none is described, a zero Mail of an account the
	// note covers that has a way to open its mail. nil does nothing on a
	// click.
	Open func(a poller.AccountSnapshot, m poller.Mail)
	// MarkRead marks read the mails a note's "Mark read" button covers,
	// given as a snapshot of just those IDs, of every account (account "");
	// Manager.MarkRead is one. nil ignores the button.
	MarkRead func(ctx context.Context, s poller.Snapshot, account string) (int, error)
	// Logger receives the failures; nil discards them.
	Logger *slog.Logger
}

// defaultTick is how often Run re-offers the last snapshot, so that a note
// held back by quiet hours or a pause shows when they end.
const defaultTick = time.Minute

// sink shows notes; *Notifier is the real one.
type sink interface {
	Show(ctx context.Context, note Note) error
}

// Loop shows one summary notification per batch of new mail, as its
// Batcher decides. It is also the tray's Pauser. Start makes one.
type Loop struct {
	ctx     context.Context // Start's: bounds the Mark read calls of clicks
	o       Options
	log     *slog.Logger
	sink    sink
	close   func() // releases the sink; called once, when Run returns
	tick    time.Duration
	now     func() time.Time
	resumed chan struct{}
	latest  atomic.Pointer[poller.Snapshot] // what a click on Open looks the accounts up in
}

func newLoop(ctx context.Context, o Options) *Loop {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loop{ctx: ctx, o: o, log: log, close: func() {}, tick: defaultTick, now: time.Now, resumed: make(chan struct{}, 1)}
}

// PausedUntil is the end of the current pause (Batcher.PausedUntil).
func (l *Loop) PausedUntil() time.Time { return l.o.Batcher.PausedUntil() }

// Pause holds notes back until the given time.
func (l *Loop) Pause(until time.Time) { l.o.Batcher.Pause(until) }

// Resume ends a pause and wakes Run, so that what the pause held back shows
// at once, not at the next tick. It never blocks.
func (l *Loop) Resume() {
	l.o.Batcher.Resume()
	select {
	case l.resumed <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// Run shows notes for the snapshots from snaps until snaps is closed (it
// returns nil) or ctx ends (ctx.Err()). Then it releases the connection
// Start opened. Call it once.
func (l *Loop) Run(ctx context.Context, snaps <-chan poller.Snapshot) error {
	defer l.close()
	tick := time.NewTicker(l.tick)
	defer tick.Stop()
	var last poller.Snapshot
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s, ok := <-snaps:
			if !ok {
				return nil
			}
			last = s
			l.latest.Store(&s)
		case <-tick.C:
		case <-l.resumed:
		}
		note, ok := l.o.Batcher.Next(last, l.now())
		if !ok {
			continue
		}
		// The same failure (no notification service) is said once, not at
		// every batch of mail.
		if err := l.sink.Show(ctx, note); err != nil && err.Error() != lastErr {
			l.log.Warn("notification failed", "err", err)
			lastErr = err.Error()
		} else if err == nil {
			lastErr = ""
		}
	}
}

// action answers a click on a note; it runs on the Notifier's goroutine.
func (l *Loop) action(action string, note Note) {
	switch action {
	case ActionOpen:
		s := l.latest.Load()
		if s == nil || l.o.Open == nil {
			return
		}
		for _, a := range s.Accounts {
			if note.Newest.ID != "" && a.Name == note.NewestAccount {
				l.o.Open(a, note.Newest)
				return
			}
		}
		for _, a := range s.Accounts {
			if len(note.IDs[a.Name]) > 0 && (a.URL != "" || a.OpenCmd != "" || a.OpenWith != "") {
				l.o.Open(a, poller.Mail{})
				return
			}
		}
	case ActionMarkRead:
		if l.o.MarkRead == nil {
			return
		}
		var seen poller.Snapshot
		for name, ids := range note.IDs {
			seen.Accounts = append(seen.Accounts, poller.AccountSnapshot{Name: name, NewIDs: ids, New: len(ids)})
		}
		if _, err := l.o.MarkRead(l.ctx, seen, ""); err != nil {
			l.log.Warn("mark read from the notification failed", "err", err)
		}
	}
}
