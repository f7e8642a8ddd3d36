package poller

import (
	"context"
	"time"

	"mailsneaker/accounts"
)

// CheckOnce checks every account once, concurrently, applies the results to
// the seen set, saves it and returns the snapshot. It is what the CLI runs;
// do not call it while Run is running.
func (m *Manager) CheckOnce(ctx context.Context) Snapshot {
	st := m.newState(ctx)
	m.checkAll(st)
	return snapshotOf(st)
}

// MarkReadOnce checks every account once and promotes what is new (of every
// account, or of the one named), as `mailsneaker mark-read` does; with
// onServer, or for accounts with mark_on_server, IMAP mails also get \Seen
// on the server. It returns the snapshot it promoted from and how many mails
// it promoted.
func (m *Manager) MarkReadOnce(ctx context.Context, account string, onServer bool) (Snapshot, int, error) {
	st := m.newState(ctx)
	m.checkAll(st)
	snap := snapshotOf(st)
	n, err := m.markRead(st, snap, account)
	if err != nil {
		return snap, n, err
	}
	var flag []accounts.Account
	for _, name := range st.order {
		if a := st.accts[name].acct; (onServer || a.MarkOnServer) && (account == "" || a.Name == account) {
			flag = append(flag, a)
		}
	}
	return snap, n, m.flagOnServer(st.ctx, flag, snap, nil)
}

func (m *Manager) checkAll(st *state) {
	if msg := st.store.Recovered(); msg != "" {
		m.log.Warn("seen-mail state recovered", "detail", msg)
	}
	results := make(chan result, len(st.order))
	running := 0
	for _, name := range st.order {
		as := st.accts[name]
		if as.acct.Disabled {
			continue // paused: no connection, not even once
		}
		running++
		q := st.query(name)
		go func() {
			as.newChecker = m.checker
			as.checker = m.checker(as.acct)
			defer func() { as.checker.Close() }()
			in, err := safeCheck(st.ctx, m.log, as, q)
			results <- result{as: as, name: as.acct.Name, inbox: in, err: err, at: time.Now()}
		}()
	}
	for range running {
		m.apply(st, <-results)
	}
	st.seq++
}
