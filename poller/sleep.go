package poller

import "context"

// Sleep closes every account's connections (IMAP IDLE included, logged out
// cleanly) and keeps them closed until Reconnect: the computer is about to
// suspend, and a connection left open would only die on the way. It returns
// once the command is given; the accounts close their connections as soon
// as a check they are in finishes. It fails only with ctx's error or
// ErrStopped.
func (m *Manager) Sleep(ctx context.Context) error {
	_, err := call(ctx, m, func(st *state) struct{} {
		if st.asleep == nil {
			m.log.Info("the computer sleeps; closing every connection")
			st.asleep = make(chan struct{})
		}
		for _, as := range st.accts {
			pokeAcct(as)
		}
		return struct{}{}
	})
	return err
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
}

// next asks the manager goroutine for the account's plan; false if ctx
// ended or the manager is stopping.
func (m *Manager) next(ctx context.Context, as *acctState) (plan, bool) {
	p, err := call(ctx, m, func(st *state) plan {
		p := plan{reconnect: as.reconnect, asleep: st.asleep}
		as.reconnect = false
		if p.asleep == nil {
			p.q = st.query(as.acct.Name)
		}
		return p
	})
	return p, err == nil
}
