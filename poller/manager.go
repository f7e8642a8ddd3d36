package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
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
// send it commands.
type Manager struct {
	o    ManagerOptions
	log  *slog.Logger
	cmds chan func(*state)
	done chan struct{} // closed when Run returns: commands are dropped

	subMu sync.Mutex
	subs  []chan Snapshot
	last  Snapshot
}

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
}

type acctState struct {
	acct       accounts.Account
	checker    Checker // used by the account's goroutine only
	newChecker func(accounts.Account) Checker
	cancel     context.CancelFunc
	poke       chan struct{}
	snap       AccountSnapshot
	described  map[string]Mail // envelopes of new mails, by id
	// seen caches a copy of the account's seen set, so a steady-state
	// check copies nothing; it is replaced, never modified, so a Query
	// handed to the account goroutine may keep reading it.
	seen *seen.Account
}

type result struct {
	as    *acctState // the goroutine's account: a restarted account has a new one
	name  string
	inbox *Inbox
	err   error
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
	return &Manager{o: o, log: log, cmds: make(chan func(*state)), done: make(chan struct{})}
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
	st.accts[a.Name] = &acctState{
		acct: a,
		poke: make(chan struct{}, 1),
		snap: AccountSnapshot{Name: a.Name, Protocol: string(a.Protocol), Unread: -1,
			OpenCmd: a.OpenCommand, URL: a.URL},
	}
}

func (m *Manager) checker(a accounts.Account) Checker {
	if m.o.NewChecker != nil {
		return m.o.NewChecker(a)
	}
	var o *Options
	if m.o.CheckerOptions != nil {
		o = m.o.CheckerOptions(a)
	}
	if a.Protocol == accounts.POP3 {
		return NewPOP3(a, o)
	}
	return NewIMAP(a, o)
}

// Run checks every account until ctx is done, then closes every connection
// and saves the seen set.
func (m *Manager) Run(ctx context.Context) error {
	defer close(m.done)
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
			// connections are likely dead, so check everything at once.
			if drift := now.Round(0).Sub(lastWall.Round(0)) - now.Sub(lastWall); drift > 10*time.Second || drift < -10*time.Second {
				m.log.Info("clock jumped (suspend/resume?); checking all accounts", "drift", drift)
				for _, as := range st.accts {
					pokeAcct(as)
				}
			}
			lastWall = now
			// Another process (mailsneaker mark-read) changed the seen set:
			// check again so the counts follow it.
			if t := modTime(st.store.Path()); !t.Equal(st.storeAt) {
				st.reloadIfChanged(m.log)
				for _, as := range st.accts {
					pokeAcct(as)
				}
			}
		case <-ctx.Done():
			for _, as := range st.accts {
				as.cancel()
			}
			// Drain results until every account goroutine has returned.
			done := make(chan struct{})
			go func() { st.wg.Wait(); close(done) }()
			for drained := false; !drained; {
				select {
				case <-st.results:
				case <-m.cmds:
				case <-done:
					drained = true
				}
			}
			return st.store.Save()
		}
	}
}

func (m *Manager) start(st *state, as *acctState) {
	ctx, cancel := context.WithCancel(st.ctx)
	as.cancel = cancel
	as.newChecker = m.checker
	as.checker = m.checker(as.acct)
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		defer func() { as.checker.Close() }() // the one in use at the end
		m.loop(ctx, st, as)
	}()
}

// loop is an account's goroutine: check, then wait for a push, the poll
// interval or a poke; on errors wait with capped, jittered backoff.
func (m *Manager) loop(ctx context.Context, st *state, as *acctState) {
	fails := 0
	for {
		q, ok := m.query(ctx, as.acct.Name)
		if !ok {
			return
		}
		inbox, err := safeCheck(ctx, m.log, as, q)
		if ctx.Err() != nil {
			return
		}
		select {
		case st.results <- result{as: as, name: as.acct.Name, inbox: inbox, err: err}:
		case <-ctx.Done():
			return
		}
		var wait time.Duration
		if err != nil {
			fails++
			wait = backoff(m.o.BackoffMin, m.o.BackoffMax, fails)
			m.log.Debug("check failed; retrying", "account", as.acct.Name, "in", wait.Round(time.Millisecond), "err", err)
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
		// sets wctx.Err() too: read after it, every broken IDLE link passed
		// for a poke and went unreported, without backoff, into a check that
		// timed out as well (found by the hang tests: 60 s instead of 30 s).
		poked := wctx.Err() != nil
		cancel()
		stop()
		if ctx.Err() != nil {
			return
		}
		if werr != nil && !poked {
			// The push connection broke: report it, back off, reconnect.
			select {
			case st.results <- result{as: as, name: as.acct.Name, err: werr}:
			case <-ctx.Done():
				return
			}
			fails++
			if !sleep(ctx, backoff(m.o.BackoffMin, m.o.BackoffMax, fails), as.poke) {
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
	return as.checker.Wait(ctx, as.acct.PollInterval)
}

func recovered(log *slog.Logger, as *acctState, op string, r any) error {
	log.Error("internal error; the account goes on with a new connection", "account", as.acct.Name,
		"op", op, "panic", r, "stack", string(debug.Stack()))
	func() {
		defer func() { recover() }() // a broken checker may fail to close, too
		as.checker.Close()
	}()
	as.checker = as.newChecker(as.acct)
	return &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("internal error while talking to %s (a bug; please report it)", as.acct.Addr()), Err: fmt.Errorf("panic: %v", r)}
}

// query asks the manager goroutine for the account's Query.
func (m *Manager) query(ctx context.Context, name string) (Query, bool) {
	reply := make(chan Query, 1)
	select {
	case m.cmds <- func(st *state) { reply <- st.query(name) }:
	case <-ctx.Done():
		return Query{}, false
	}
	select {
	case q := <-reply:
		return q, true
	case <-ctx.Done():
		return Query{}, false
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
	q := Query{Want: func(id string) bool {
		_, known := dismissed.IDs[id]
		_, known2 := described[id]
		return !known && !known2
	}}
	if as.acct.Protocol == accounts.IMAP {
		q.Validity = validities(dismissed)
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
		as.snap.State, as.snap.Err = StateError, ce
		return
	}
	st.reloadIfChanged(m.log)
	prev := st.seen(r.name)
	d := decide(as.acct, prev, st.store.Reset(), r.inbox)
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
	as.snap.Unread = r.inbox.Unread
	as.snap.Checked = time.Now()
	as.setNew(d.newIDs)
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
// wrote since this one last read or wrote the state file.
func (st *state) reloadIfChanged(log *slog.Logger) {
	if t := modTime(st.store.Path()); !t.Equal(st.storeAt) {
		if err := st.store.Reload(); err != nil {
			log.Warn("cannot reload the seen-mail state", "err", err)
			return
		}
		st.storeAt = modTime(st.store.Path())
		for _, as := range st.accts {
			as.seen = nil
		}
	}
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
		if as == nil || len(sa.NewIDs) == 0 {
			continue
		}
		st.store.Update(sa.Name, func(s *seen.Account) {
			if s.IDs == nil {
				s.IDs = map[string]string{}
			}
			for _, id := range sa.NewIDs {
				s.IDs[id] = as.described[id].MessageID
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
		as.seen = nil
	}
	if err := st.store.Save(); err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	st.storeAt = modTime(st.store.Path())
	return n, nil
}

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

// ErrStopped is returned by commands sent after Run returned.
var ErrStopped = errors.New("poller: the manager has stopped")

// stopped is the error of a command that could not be sent.
func stopped(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return ErrStopped
}

// send hands cmd to the manager goroutine; false if ctx ended or Run
// returned first.
func (m *Manager) send(ctx context.Context, cmd func(*state)) bool {
	select {
	case m.cmds <- cmd:
		return true
	case <-ctx.Done():
		return false
	case <-m.done:
		return false
	}
}

func pokeAcct(as *acctState) {
	select {
	case as.poke <- struct{}{}:
	default:
	}
}

// Snapshots returns a channel that always holds the latest Snapshot: a slow
// reader skips stale ones and never blocks the manager. Each call makes a
// new subscription.
func (m *Manager) Snapshots() <-chan Snapshot {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	ch := make(chan Snapshot, 1)
	if m.last.Seq > 0 {
		ch <- m.last
	}
	m.subs = append(m.subs, ch)
	return ch
}

func (m *Manager) publish(st *state) {
	st.seq++
	s := snapshotOf(st)
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.last = s
	for _, ch := range m.subs {
		select { // only the manager sends, so drain-then-send cannot block
		case <-ch:
		default:
		}
		ch <- s
	}
}

func snapshotOf(st *state) Snapshot {
	s := Snapshot{Seq: st.seq, Accounts: make([]AccountSnapshot, 0, len(st.order))}
	for _, name := range st.order {
		a := st.accts[name].snap
		a.NewIDs = append([]string(nil), a.NewIDs...)
		a.Mails = append([]Mail(nil), a.Mails...)
		s.Accounts = append(s.Accounts, a)
		s.Total += a.New
	}
	return s
}

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
	return snap, n, m.flagOnServer(st.ctx, flag, snap, false)
}

func (m *Manager) checkAll(st *state) {
	if msg := st.store.Recovered(); msg != "" {
		m.log.Warn("seen-mail state recovered", "detail", msg)
	}
	results := make(chan result, len(st.order))
	for _, name := range st.order {
		as := st.accts[name]
		q := st.query(name)
		go func() {
			as.newChecker = m.checker
			as.checker = m.checker(as.acct)
			defer func() { as.checker.Close() }()
			in, err := safeCheck(st.ctx, m.log, as, q)
			results <- result{as: as, name: as.acct.Name, inbox: in, err: err}
		}()
	}
	for range st.order {
		m.apply(st, <-results)
	}
	st.seq++
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

// sleep waits d, a poke, or ctx; false means ctx ended.
func sleep(ctx context.Context, d time.Duration, poke <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-poke:
		return true
	case <-ctx.Done():
		return false
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
