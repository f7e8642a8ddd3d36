package poller

import (
	"context"
	"sync"
)

// Sleep closes every account's connections (IMAP IDLE included, logged out
// cleanly) and keeps them closed until Reconnect: the computer is about to
// suspend, and a connection left open would only die on the way. An account
// in the middle of a check closes when the check ends. Sleep returns once
// every account it found has closed its connections, or with ctx's error
// (the accounts go on closing), or ErrStopped.
func (m *Manager) Sleep(ctx context.Context) error {
	closed, err := call(ctx, m, func(st *state) <-chan struct{} {
		again := st.asleep != nil
		if !again {
			m.log.Info("the computer sleeps; closing every connection")
			st.asleep = make(chan struct{})
		}
		done := make(chan struct{})
		var left sync.WaitGroup
		for _, as := range st.accts {
			if again && as.sleepAck == nil {
				// Closed already (or started asleep): it holds nothing.
				continue
			}
			left.Add(1)
			prev := as.sleepAck
			as.sleepAck = sync.OnceFunc(func() {
				if prev != nil {
					prev()
				}
				left.Done()
			})
			pokeAcct(as)
		}
		go func() { left.Wait(); close(done) }()
		return done
	})
	if err != nil {
		return err
	}
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reconnect ends a Sleep, and makes every account drop its connections and
// check at once on new ones: the computer woke or its network came back,
// and connections from before are likely dead. It is one command, so a
// Sleep and a Reconnect happen in the order they were sent. It fails only
// with ctx's error or ErrStopped.
func (m *Manager) Reconnect(ctx context.Context) error {
	_, err := call(ctx, m, func(st *state) struct{} {
		m.log.Info("reconnecting and checking every account")
		m.reconnect(st)
		return struct{}{}
	})
	return err
}

// reconnect is Reconnect on the manager goroutine.
func (m *Manager) reconnect(st *state) {
	if st.asleep != nil {
		close(st.asleep)
		st.asleep = nil
	}
	for _, as := range st.accts {
		as.reconnect = true
		pokeAcct(as)
	}
}

// plan is what the account goroutine does before its next check.
type plan struct {
	q         Query
	reconnect bool          // drop the connections first
	asleep    chan struct{} // non-nil: hold no connection until it closes
	closed    func()        // if non-nil, call once the connections are closed
}

// next asks the manager goroutine for the account's plan; false if ctx
// ended or the manager is stopping.
func (m *Manager) next(ctx context.Context, as *acctState) (plan, bool) {
	p, err := call(ctx, m, func(st *state) plan {
		p := plan{reconnect: as.reconnect, asleep: st.asleep, closed: as.sleepAck}
		as.reconnect, as.sleepAck = false, nil
		if p.asleep == nil {
			p.q = st.query(as.acct.Name)
		}
		return p
	})
	return p, err == nil
}
