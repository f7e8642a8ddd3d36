package poller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"mailsneaker/accounts"
)

// MarkRead promotes exactly the new mails of shown — the snapshot the user
// looked at — of every account, or of the named one, into the seen set, on
// disk. Accounts with mark_on_server also get \Seen set on the server (by
// the account's goroutine, which the caller waits for). It returns how many
// mails it promoted.
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
	return n, m.flagOnServer(ctx, onServer, shown, m.markByAccount)
}

func (m *Manager) markReadLocal(ctx context.Context, shown Snapshot, account string) (int, error) {
	type reply struct {
		n   int
		err error
	}
	r, err := call(ctx, m, func(st *state) reply {
		n, err := m.markRead(st, shown, account)
		m.publish(st)
		return reply{n, err}
	})
	if err != nil {
		return 0, err
	}
	return r.n, r.err
}

// CheckNow makes the named account, or every account, check at once. It
// fails only with ErrStopped.
func (m *Manager) CheckNow(account string) error {
	return m.checkNow(context.Background(), account)
}

func (m *Manager) checkNow(ctx context.Context, account string) error {
	_, err := call(ctx, m, func(st *state) struct{} {
		for name, as := range st.accts {
			if account == "" || name == account {
				pokeAcct(as)
			}
		}
		return struct{}{}
	})
	return err
}

// SetAccounts makes the manager watch exactly accts, in that order, as one
// command: an account whose settings are unchanged goes on undisturbed; a
// changed one restarts with its seen set, as long as its identity (protocol,
// host, port, username) is the same, even under a new name; an account gone
// from accts, or whose identity changed, loses its seen set. It returns once
// the change is made.
func (m *Manager) SetAccounts(ctx context.Context, accts []accounts.Account) error {
	accts = slices.Clone(accts)
	_, err := call(ctx, m, func(st *state) struct{} {
		m.setAccounts(st, accts)
		m.publish(st)
		return struct{}{}
	})
	return err
}

// MarkReadOnServer does what MarkRead does and then, for the IMAP accounts
// of shown (all, or the one named), sets \Seen on the server on exactly those
// mails: the user's explicit "Mark read on server". The server part runs on
// the account's goroutine, over its check connection, and the caller waits
// for it; afterwards the account checks again.
func (m *Manager) MarkReadOnServer(ctx context.Context, shown Snapshot, account string) (int, error) {
	accts, err := m.accountsOf(ctx, shown, account)
	if err != nil {
		return 0, err
	}
	n, err := m.markReadLocal(ctx, shown, account)
	if err != nil {
		return n, err
	}
	return n, m.flagOnServer(ctx, accts, shown, m.markByAccount)
}

// markByAccount has the account's goroutine set \Seen on ids, between its
// checks and over its check connection, and waits for it; the check that
// follows shows the result.
func (m *Manager) markByAccount(ctx context.Context, a accounts.Account, ids []string) (int, error) {
	as, err := call(ctx, m, func(st *state) *acctState { return st.accts[a.Name] })
	if err != nil {
		return 0, err
	}
	if as == nil {
		return 0, fmt.Errorf("account %q is no longer watched", a.Name)
	}
	// Only the channels of as are used here: they never change.
	j := markJob{ids: ids, reply: make(chan markResult, 1)}
	select {
	case as.marks <- j:
	case <-as.done:
		return 0, ErrStopped
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	pokeAcct(as)
	select {
	case r := <-j.reply:
		return r.n, r.err
	case <-as.done:
		return 0, ErrStopped
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// flagOnServer sets \Seen on the new mails of seen for each account in
// accts, with mark: markByAccount in a running manager, nil (a connection
// of its own) in a one-off process.
func (m *Manager) flagOnServer(ctx context.Context, accts []accounts.Account, shown Snapshot, mark func(context.Context, accounts.Account, []string) (int, error)) error {
	var errs []error
	for _, a := range accts {
		if a.Protocol != accounts.IMAP {
			continue
		}
		for _, sa := range shown.Accounts {
			if sa.Name != a.Name || len(sa.NewIDs) == 0 {
				continue
			}
			if mark == nil {
				mark = func(ctx context.Context, a accounts.Account, ids []string) (int, error) {
					var o *Options
					if m.o.CheckerOptions != nil {
						o = m.o.CheckerOptions(a)
					}
					return MarkSeenOnServer(ctx, a, o, ids)
				}
			}
			n, err := mark(ctx, a, sa.NewIDs)
			if err != nil {
				errs = append(errs, fmt.Errorf("mark read on %s: %w", a.Name, err))
				continue
			}
			m.log.Info("marked read on the server", "account", a.Name, "mails", n)
		}
	}
	return errors.Join(errs...)
}

// accountsOf returns the settings of the accounts of shown (all, or the one
// named) as the manager holds them.
func (m *Manager) accountsOf(ctx context.Context, shown Snapshot, account string) ([]accounts.Account, error) {
	return call(ctx, m, func(st *state) []accounts.Account {
		var out []accounts.Account
		for _, sa := range shown.Accounts {
			if as := st.accts[sa.Name]; as != nil && (account == "" || sa.Name == account) {
				out = append(out, as.acct)
			}
		}
		return out
	})
}
