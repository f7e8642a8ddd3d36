package poller

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"
)

func (m *Manager) start(st *state, as *acctState) {
	ctx, cancel := context.WithCancel(st.ctx)
	as.cancel = cancel
	if !as.acct.Disabled {
		as.newChecker = m.checker
		as.checker = m.checker(as.acct)
	}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		defer close(as.done)
		if as.checker != nil {
			defer func() { as.checker.Close() }() // the one in use at the end
		}
		if as.after != nil {
			select {
			case <-as.after: // the previous settings' connections are closed
			case <-ctx.Done():
				return
			}
		}
		if as.acct.Disabled {
			m.paused(ctx, as)
			return
		}
		m.loop(ctx, st, as)
	}()
}

// loop is an account's goroutine: check, then wait for a push, the poll
// interval or a poke; on errors wait as errWait says.
func (m *Manager) loop(ctx context.Context, st *state, as *acctState) {
	fails := 0
	for {
		m.runMarks(ctx, as)
		p, ok := m.next(ctx, as)
		if !ok {
			return
		}
		if p.reconnect || p.asleep != nil {
			closeChecker(as)
			fails = 0
		}
		if p.closed != nil {
			p.closed()
		}
		if p.asleep != nil {
			select {
			case <-p.asleep:
			case <-ctx.Done():
				return
			}
			// The Reconnect that woke the account poked it, too.
			select {
			case <-as.poke:
			default:
			}
			continue
		}
		inbox, err := safeCheck(ctx, m.log, as, p.q)
		if ctx.Err() != nil {
			return
		}
		// The wait is drawn before the result goes out, so that the
		// snapshot can say when the next try is.
		var wait time.Duration
		r := result{as: as, name: as.acct.Name, inbox: inbox, err: err, at: time.Now()}
		if err != nil {
			wait = m.errWait(as, err, fails+1)
			if wait != untilPoked {
				fails++
				r.retry = r.at.Add(wait)
			}
		}
		select {
		case st.results <- r:
		case <-ctx.Done():
			return
		}
		if err != nil {
			if wait == untilPoked {
				m.log.Debug("login refused; waiting for the user", "account", as.acct.Name, "err", err)
			} else {
				m.log.Debug("check failed; retrying", "account", as.acct.Name, "in", wait.Round(time.Millisecond), "err", err)
			}
			if !sleep(ctx, wait, as.poke) {
				return
			}
			continue
		}
		fails = 0
		wctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(ctx, cancel)
		go func() {
			select {
			case <-as.poke:
				cancel()
			case <-wctx.Done():
			}
		}()
		werr := safeWait(wctx, m.log, as)
		// Whether a poke ended the wait must be read before cancel(), which
		// sets wctx.Err() too: read after it, a broken IDLE link would pass
		// for a poke, go unreported and lead, without backoff, into a check
		// through the same dead path.
		poked := wctx.Err() != nil
		cancel()
		stop()
		if ctx.Err() != nil {
			return
		}
		if werr != nil && !poked {
			// The push connection broke: report it, back off, reconnect.
			fails++
			wait := backoff(m.o.BackoffMin, m.o.BackoffMax, fails)
			now := time.Now()
			select {
			case st.results <- result{as: as, name: as.acct.Name, err: werr, at: now, retry: now.Add(wait)}:
			case <-ctx.Done():
				return
			}
			if !sleep(ctx, wait, as.poke) {
				return
			}
		}
	}
}

// safeCheck runs a check; a panic in it (a bug of ours or of a library,
// met with data from the network) becomes that account's error instead of
// ending the app. The checker is replaced: its state is not to be trusted.
func safeCheck(ctx context.Context, log *slog.Logger, as *acctState, q Query) (in *Inbox, err error) {
	defer func() {
		if r := recover(); r != nil {
			in, err = nil, recovered(log, as, "check", r)
		}
	}()
	return as.checker.Check(ctx, q)
}

// safeWait is safeCheck for Wait.
func safeWait(ctx context.Context, log *slog.Logger, as *acctState) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered(log, as, "wait", r)
		}
	}()
	return as.checker.Wait(ctx, pollWait(as))
}

// minPoller is a checker whose server sets a shortest wait between checks
// (POP3 LOGIN-DELAY, RFC 2449 section 6.8).
type minPoller interface {
	MinPollInterval() time.Duration
}

// minPoll is the shortest wait between checks the account's server allows.
func minPoll(as *acctState) time.Duration {
	if mp, ok := as.checker.(minPoller); ok {
		return mp.MinPollInterval()
	}
	return 0
}

// pollWait is the wait after a good check: poll_interval, raised to what
// the server allows.
func pollWait(as *acctState) time.Duration {
	return max(as.acct.PollInterval, minPoll(as))
}

func recovered(log *slog.Logger, as *acctState, op string, r any) error {
	log.Error("internal error; the account goes on with a new connection", "account", as.acct.Name,
		"op", op, "panic", r, "stack", string(debug.Stack()))
	closeChecker(as)
	as.checker = as.newChecker(as.acct)
	return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("internal error while talking to %s (a bug; please report it)", as.acct.Addr()), Err: fmt.Errorf("panic: %v", r)}
}

// closeChecker closes the account's connections.
func closeChecker(as *acctState) {
	defer func() { recover() }() // a broken checker may fail to close, too
	as.checker.Close()
}

func pokeAcct(as *acctState) {
	select {
	case as.poke <- struct{}{}:
	default:
	}
}

// backoff is the jittered wait before retry number fails (1, 2, ...).
func backoff(lo, hi time.Duration, fails int) time.Duration {
	d := lo
	for i := 1; i < fails && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// untilPoked is the wait (errWait, sleep) that only a poke or ctx ends.
const untilPoked time.Duration = -1

// errWait is the wait after failed check number fails (1, 2, ...): capped,
// jittered backoff, no shorter than the server allows. An error only the
// user can fix waits for them (Check now, Reconnect and new settings end
// any wait): a refused password waits untilPoked, since trying it again
// can lock the account on some servers; KindSignIn waits at least
// signInWait. A refused OAuth2 access token is retried: the source dropped
// it and gets a fresh one.
func (m *Manager) errWait(as *acctState, err error, fails int) time.Duration {
	switch KindOf(err) {
	case KindAuth:
		if !as.acct.OAuth2() {
			return untilPoked
		}
	case KindSignIn:
		return max(backoff(m.o.BackoffMin, m.o.BackoffMax, fails), minPoll(as), signInWait)
	}
	return max(backoff(m.o.BackoffMin, m.o.BackoffMax, fails), minPoll(as))
}

// sleep waits d (untilPoked: no time), a poke, or ctx; false means ctx ended.
func sleep(ctx context.Context, d time.Duration, poke <-chan struct{}) bool {
	var timeout <-chan time.Time
	if d != untilPoked {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-poke:
		return true
	case <-ctx.Done():
		return false
	}
}

// markJob asks an account's goroutine to set \Seen on the server on ids.
type markJob struct {
	ids   []string
	reply chan markResult // buffered
}

type markResult struct {
	n   int
	err error
}

// seenMarker is a checker that can set \Seen over a connection it keeps.
type seenMarker interface {
	MarkSeen(ctx context.Context, ids []string) (int, error)
}

// runMarks runs the queued Mark read on server jobs, over the checker's own
// connection where it has one, so the account stays within max_connections.
func (m *Manager) runMarks(ctx context.Context, as *acctState) {
	for {
		select {
		case j := <-as.marks:
			n, err := safeMark(ctx, m, as, j.ids)
			j.reply <- markResult{n, err}
		default:
			return
		}
	}
}

// safeMark is safeCheck for a markJob.
func safeMark(ctx context.Context, m *Manager, as *acctState, ids []string) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, recovered(m.log, as, "mark", r)
		}
	}()
	if sm, ok := as.checker.(seenMarker); ok {
		return sm.MarkSeen(ctx, ids)
	}
	var o *Options
	if m.o.CheckerOptions != nil {
		o = m.o.CheckerOptions(as.acct)
	}
	return MarkSeenOnServer(ctx, as.acct, o, ids)
}
