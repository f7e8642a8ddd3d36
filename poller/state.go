package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sync"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/seen"
)

// state is owned by the manager goroutine (or by CheckOnce in a process
// that runs no goroutine).
type state struct {
	store   *seen.Store
	storeAt time.Time // mtime of the state file when last read or written
	order   []string
	accts   map[string]*acctState
	seq     uint64
	results chan result
	ctx     context.Context
	wg      sync.WaitGroup
	// asleep is non-nil between Sleep and Reconnect: the accounts hold no
	// connection and wait for it to close.
	asleep chan struct{}
}

type acctState struct {
	acct       accounts.Account
	checker    Checker // used by the account's goroutine only
	newChecker func(accounts.Account) Checker
	cancel     context.CancelFunc
	poke       chan struct{}
	// done is closed when the account's goroutine has closed its
	// connections; a restarted account waits for its predecessor's (after)
	// so that the two never hold more than max_connections together.
	done      chan struct{}
	after     chan struct{}
	marks     chan markJob // Mark read on server, run by the account's goroutine
	snap      AccountSnapshot
	described map[string]Mail // envelopes of new mails, by id
	// seen caches a copy of the account's seen set, so a steady-state
	// check copies nothing; it is replaced, never modified, so a Query
	// handed to the account goroutine may keep reading it.
	seen *seen.Account
	// describe are the IMAP folders whose unseen mail is described whole
	// at every check (Query.Describe): the server renumbers mail there.
	describe map[string]bool
	// reconnect asks the account's goroutine to drop its connections
	// before its next check (Reconnect); the goroutine clears it.
	reconnect bool
	// sleepAck, set by Sleep, is called once the goroutine has closed its
	// connections for it.
	sleepAck func()
}

type result struct {
	as    *acctState // the goroutine's account: a restarted account has a new one
	name  string
	inbox *Inbox
	err   error
	at    time.Time // when the check ended
	retry time.Time // after an error: when the account goroutine tries again; zero if it does not
}

func (m *Manager) newState(ctx context.Context) *state {
	st := &state{store: m.o.Store, accts: map[string]*acctState{}, results: make(chan result), ctx: ctx}
	st.storeAt = modTime(st.store.Path())
	for _, a := range m.o.Accounts {
		m.addAccount(st, a)
	}
	return st
}

func (m *Manager) addAccount(st *state, a accounts.Account) {
	if _, dup := st.accts[a.Name]; dup {
		return
	}
	st.order = append(st.order, a.Name)
	st.accts[a.Name] = newAcctState(a)
}

func newAcctState(a accounts.Account) *acctState {
	return &acctState{
		acct:  a,
		poke:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		marks: make(chan markJob, 4),
		snap:  settingsSnap(AccountSnapshot{Name: a.Name, Protocol: string(a.Protocol), Unread: -1}, a),
	}
}

// query builds a Query whose Want reads an immutable set, so the account
// goroutine may call it while the manager goes on.
func (st *state) query(name string) Query {
	as := st.accts[name]
	if as == nil {
		return Query{Want: func(string) bool { return false }}
	}
	dismissed := st.seen(name)
	described := make(map[string]struct{}, len(as.described))
	for id := range as.described {
		described[id] = struct{}{}
	}
	imapAcct := as.acct.Protocol == accounts.IMAP
	q := Query{Want: func(id string) bool {
		key, known := dismissed.IDs[id]
		_, known2 := described[id]
		// An IMAP dismissal without a key asks for its envelope too, so
		// that decide can key it (it can then follow its mail to a new UID).
		return (!known || imapAcct && key == "") && !known2
	}}
	if as.acct.Protocol == accounts.IMAP {
		q.Validity = validities(dismissed)
		q.Describe = maps.Clone(as.describe) // the goroutine reads it while this one changes as.describe
	}
	if as.acct.Protocol == accounts.POP3 && !dismissed.Baselined && (!as.acct.CountExisting || st.store.Reset()) {
		// This check takes the mail on the server as seen (decide): none
		// of it is shown, so none of its headers is fetched (no TOP).
		q.Want = nil
	}
	return q
}

func (m *Manager) apply(st *state, r result) {
	as := st.accts[r.name]
	if as == nil || as != r.as {
		return // removed, or restarted with new settings since
	}
	if r.err != nil {
		var ce *CheckError
		if !errors.As(r.err, &ce) {
			ce = &CheckError{Kind: KindProtocol, Msg: "check failed", Err: r.err}
		}
		if as.snap.State != StateError || as.snap.Err.Error() != ce.Error() {
			m.log.Warn("account check failed", "account", r.name, "kind", ce.Kind, "err", ce)
		}
		first := as.snap.State != StateError
		as.snap.State, as.snap.Err = StateError, ce
		as.snap.Failed, as.snap.Retry = r.at, r.retry
		if as.snap.Failed.IsZero() {
			as.snap.Failed = time.Now()
		}
		if first {
			as.snap.ErrSince = as.snap.Failed
		}
		return
	}
	st.reloadIfChanged(m.log)
	prev := st.seen(r.name)
	d := decide(as.acct, prev, st.store.Reset(), r.inbox, as.described)
	if d.changed(prev) {
		st.store.Update(r.name, func(s *seen.Account) {
			if s.IDs == nil {
				s.IDs = map[string]string{}
			}
			for _, id := range d.remove {
				delete(s.IDs, id)
			}
			for id, mid := range d.add {
				s.IDs[id] = mid
			}
			s.Baselined = d.baselined
		})
		as.seen = nil
		m.save(st, as)
	}
	if st.store.Reset() && st.allBaselined() {
		st.store.ClearReset()
		m.save(st, as)
	}
	if d.log != "" {
		m.log.Info(d.log)
	}
	for _, f := range d.describe {
		if as.describe == nil {
			as.describe = map[string]bool{}
		}
		as.describe[f] = true
	}
	if d.again {
		pokeAcct(as)
	}
	if d.notice != "" {
		m.log.Warn(d.notice)
		as.snap.Notice = d.notice
	}
	if as.described == nil {
		as.described = map[string]Mail{}
	}
	for id, mail := range r.inbox.Mails {
		as.described[id] = mail
	}
	isNew := make(map[string]struct{}, len(d.newIDs))
	for _, id := range d.newIDs {
		isNew[id] = struct{}{}
	}
	for id := range as.described {
		if _, ok := isNew[id]; !ok {
			delete(as.described, id)
		}
	}
	as.snap.State, as.snap.Err = StateOK, nil
	as.snap.Failed, as.snap.Retry = time.Time{}, time.Time{}
	as.snap.Unread = r.inbox.Unread
	as.snap.Pushed, as.snap.Polled = r.inbox.Pushed, r.inbox.Polled
	as.snap.Checked = time.Now()
	as.snap.ErrSince = time.Time{}
	as.setNew(as.filterSenders(d.newIDs))
	if as.acct.FiltersSenders() && len(r.inbox.Mails) > 0 && as.undescribed() {
		pokeAcct(as) // describe the rest now, not at the next push or poll
	}
}

// seen returns the cached copy of the account's seen set.
func (st *state) seen(name string) *seen.Account {
	as := st.accts[name]
	if as.seen == nil {
		c := st.store.Account(name)
		as.seen = &c
	}
	return as.seen
}

// allBaselined reports whether every account has a baseline, so a lost
// state no longer needs re-baselining.
func (st *state) allBaselined() bool {
	for name := range st.accts {
		if !st.seen(name).Baselined {
			return false
		}
	}
	return true
}

// setNew sets the account snapshot's new set and its newest described mails.
func (as *acctState) setNew(ids []string) {
	as.snap.NewIDs = ids
	as.snap.New = len(ids)
	mails := make([]Mail, 0, min(len(ids), MaxMails))
	for _, id := range ids {
		if mail, ok := as.described[id]; ok {
			mails = append(mails, mail)
		}
	}
	newestFirst(mails)
	if len(mails) > MaxMails {
		mails = mails[:MaxMails]
	}
	as.snap.Mails = mails
}

func (m *Manager) save(st *state, as *acctState) {
	if err := st.store.Save(); err != nil {
		m.log.Error("cannot save the seen-mail state", "err", err)
		if as != nil {
			as.snap.Notice = "cannot save the seen-mail state: " + err.Error()
		}
		return
	}
	st.storeAt = modTime(st.store.Path())
}

// reloadIfChanged picks up what another process (mailsneaker mark-read)
// wrote since this one last read or wrote the state file, and reports
// whether it did. A file that cannot be read is tried again only once it
// changes again: every check and every tick would otherwise read it, and
// warn, for as long as it stays unreadable.
func (st *state) reloadIfChanged(log *slog.Logger) bool {
	t := modTime(st.store.Path())
	if t.Equal(st.storeAt) {
		return false
	}
	st.storeAt = t
	if err := st.store.Reload(); err != nil {
		log.Warn("cannot reload the seen-mail state", "err", err)
		return false
	}
	st.storeAt = modTime(st.store.Path())
	for _, as := range st.accts {
		as.seen = nil
	}
	return true
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// markRead promotes the new mails of seen (all accounts, or the one named)
// into the seen set and saves it. Mail that arrived after seen was taken is
// not in it and stays new.
func (m *Manager) markRead(st *state, shown Snapshot, account string) (int, error) {
	st.reloadIfChanged(m.log)
	n := 0
	for _, sa := range shown.Accounts {
		if account != "" && sa.Name != account {
			continue
		}
		as := st.accts[sa.Name]
		if as == nil || len(sa.NewIDs) == 0 && len(sa.IgnoredIDs) == 0 {
			continue
		}
		st.store.Update(sa.Name, func(s *seen.Account) {
			if s.IDs == nil {
				s.IDs = map[string]string{}
			}
			for _, id := range sa.NewIDs {
				s.IDs[id] = dismissKey(as.described[id])
			}
			s.Baselined = true
		})
		promoted := make(map[string]struct{}, len(sa.NewIDs))
		for _, id := range sa.NewIDs {
			promoted[id] = struct{}{}
		}
		var rest []string
		for _, id := range as.snap.NewIDs {
			if _, ok := promoted[id]; !ok {
				rest = append(rest, id)
			}
		}
		n += len(as.snap.NewIDs) - len(rest)
		as.setNew(rest)
		as.dismissIgnored(st, sa)
		as.seen = nil
	}
	if err := st.store.Save(); err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	st.storeAt = modTime(st.store.Path())
	return n, nil
}
