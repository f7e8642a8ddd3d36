package poller

import (
	"context"
	"errors"
	"fmt"

	"mailsneaker/accounts"
)

// MarkRead promotes exactly the new mails of shown — the snapshot the user
// looked at — of every account, or of the named one, into the seen set, on
// disk. Accounts with mark_on_server also get \Seen set on the server (on
// the caller's goroutine). It returns how many mails it promoted.
func (m *Manager) MarkRead(ctx context.Context, shown Snapshot, account string) (int, error) {
	n, err := m.markReadLocal(ctx, shown, account)
	if err != nil {
		return n, err
	}
	accts, err := m.accountsOf(ctx, shown, account)
	if err != nil {
		return n, err
	}
	var onServer []accounts.Account
	for _, a := range accts {
		if a.MarkOnServer {
			onServer = append(onServer, a)
		}
	}
	return n, m.flagOnServer(ctx, onServer, shown, true)
}

func (m *Manager) markReadLocal(ctx context.Context, shown Snapshot, account string) (int, error) {
	type reply struct {
		n   int
		err error
	}
	ch := make(chan reply, 1)
	if !m.send(ctx, func(st *state) {
		n, err := m.markRead(st, shown, account)
		m.publish(st)
		ch <- reply{n, err}
	}) {
		return 0, stopped(ctx)
	}
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// CheckNow makes the named account, or every account, check at once.
func (m *Manager) CheckNow(account string) {
	go m.send(context.Background(), func(st *state) {
		for name, as := range st.accts {
			if account == "" || name == account {
				pokeAcct(as)
			}
		}
	})
}

// AddAccount starts watching a (or restarts it with new settings).
func (m *Manager) AddAccount(a accounts.Account) {
	go m.send(context.Background(), func(st *state) {
		m.removeAccount(st, a.Name)
		m.addAccount(st, a)
		m.start(st, st.accts[a.Name])
		m.publish(st)
	})
}

// RemoveAccount stops watching the named account and forgets its seen set.
func (m *Manager) RemoveAccount(name string) {
	go m.send(context.Background(), func(st *state) {
		if st.accts[name] == nil {
			return
		}
		m.removeAccount(st, name)
		st.store.RemoveAccount(name)
		m.save(st, nil)
		m.publish(st)
	})
}

func (m *Manager) removeAccount(st *state, name string) {
	as := st.accts[name]
	if as == nil {
		return
	}
	as.cancel()
	delete(st.accts, name)
	for i, n := range st.order {
		if n == name {
			st.order = append(st.order[:i:i], st.order[i+1:]...)
			break
		}
	}
}

// MarkReadOnServer does what MarkRead does and then, for the IMAP accounts
// of shown (all, or the one named), sets \Seen on the server on exactly those
// mails: the user's explicit "Mark read on server". The server part runs on
// the caller's goroutine; afterwards the accounts check again.
func (m *Manager) MarkReadOnServer(ctx context.Context, shown Snapshot, account string) (int, error) {
	accts, err := m.accountsOf(ctx, shown, account)
	if err != nil {
		return 0, err
	}
	n, err := m.markReadLocal(ctx, shown, account)
	if err != nil {
		return n, err
	}
	return n, m.flagOnServer(ctx, accts, shown, true)
}

// flagOnServer sets \Seen on the new mails of seen for each account in
// accts; recheck asks the running manager to check those accounts again.
func (m *Manager) flagOnServer(ctx context.Context, accts []accounts.Account, shown Snapshot, recheck bool) error {
	var errs []error
	for _, a := range accts {
		if a.Protocol != accounts.IMAP {
			continue
		}
		for _, sa := range shown.Accounts {
			if sa.Name != a.Name || len(sa.NewIDs) == 0 {
				continue
			}
			var o *Options
			if m.o.CheckerOptions != nil {
				o = m.o.CheckerOptions(a)
			}
			n, err := MarkSeenOnServer(ctx, a, o, sa.NewIDs)
			if err != nil {
				errs = append(errs, fmt.Errorf("mark read on %s: %w", a.Name, err))
				continue
			}
			m.log.Info("marked read on the server", "account", a.Name, "mails", n)
			if recheck {
				m.CheckNow(a.Name)
			}
		}
	}
	return errors.Join(errs...)
}

// accountsOf returns the settings of the accounts of shown (all, or the one
// named) as the manager holds them.
func (m *Manager) accountsOf(ctx context.Context, shown Snapshot, account string) ([]accounts.Account, error) {
	ch := make(chan []accounts.Account, 1)
	if !m.send(ctx, func(st *state) {
		var out []accounts.Account
		for _, sa := range shown.Accounts {
			if as := st.accts[sa.Name]; as != nil && (account == "" || sa.Name == account) {
				out = append(out, as.acct)
			}
		}
		ch <- out
	}) {
		return nil, stopped(ctx)
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
