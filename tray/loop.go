package tray

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"

	"mailsneaker/icons"
	"mailsneaker/poller"
)

// ui is the part of the tray library the loop drives; tests substitute a
// fake. Only the loop goroutine calls it.
type ui interface {
	SetIcon([]byte)
	SetTitle(string)
	SetTooltip(string)
	// Reset removes every menu item and closes their click channels.
	Reset()
	// Add appends it (its label, state and check box; not its children)
	// to parent's submenu (nil: the top menu) and returns a handle for
	// children and the item's click channel.
	Add(parent any, it Item) (any, <-chan struct{})
	AddSeparator(parent any)
}

// click is one click on an item, with the snapshot its menu was drawn from.
type click struct {
	snap poller.Snapshot
	act  Action
}

// loop is the tray's one goroutine and the state only it touches.
//
// Every snapshot that changes the menu rebuilds it from scratch (Tailscale
// style): Reset, then add every item again, with a fresh context whose
// cancellation ends the click goroutines of the previous menu. Updating items
// in place would keep an open menu steadier, but the menu's shape changes
// with nearly every change that matters (a new mail adds a row to a
// submenu), fyne's Linux backend re-announces the layout on every property
// change anyway, and a diff of two trees is code that can be wrong. What the
// loop does avoid is rebuilding for nothing: most snapshots only move an
// account's check time, and an unchanged menu is left alone.
type loop struct {
	ctx    context.Context // for jobs started by clicks; cancelled when Run ends
	e      Engine
	o      Options
	log    *slog.Logger
	ui     ui
	clicks chan click
	jobs   sync.WaitGroup // clicks being handled and click watchers
	// toggled tells the loop that Autostart.Set returned: redraw what Get
	// reads now. A job sends without blocking; one pending redraw is enough.
	toggled chan struct{}
	// The clock, replaced in tests: when a pause ends the menu changes
	// without a snapshot, so the loop wakes itself.
	now   func() time.Time
	after func(time.Duration) <-chan time.Time

	// Owned by the loop goroutine.
	shown       Menu
	drawn       poller.Snapshot // the snapshot shown: what Mark all read marks
	haveDrawn   bool
	cancelGen   context.CancelFunc
	notices     map[string]string // account → last Notice passed on
	wake        <-chan time.Time  // fires at wakeAt; nil when no pause runs
	wakeAt      time.Time
	autostartOn bool   // the last state Autostart.Get read
	getErr      string // the last Autostart.Get error passed on
}

func newLoop(ctx context.Context, e Engine, o Options, u ui) *loop {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &loop{ctx: ctx, e: e, o: o, log: log, ui: u, clicks: make(chan click),
		toggled: make(chan struct{}, 1), now: time.Now, after: time.After,
		cancelGen: func() {}, notices: map[string]string{}}
}

// run shows snapshots and handles clicks until ctx is done, the snapshot
// channel closes, or the user clicks Quit (then it returns true). It closes
// ready once the first menu is built.
func (l *loop) run(ctx context.Context, ready chan<- struct{}) (quit bool) {
	defer func() { l.cancelGen() }()
	snaps := l.e.Snapshots(ctx)
	select {
	case s, ok := <-snaps:
		if !ok {
			close(ready)
			return false
		}
		l.show(latest(s, snaps))
	default:
		l.draw(starting(), poller.Snapshot{})
		l.haveDrawn = false
	}
	close(ready)
	for {
		select {
		case <-ctx.Done():
			return false
		case s, ok := <-snaps:
			if !ok {
				return false
			}
			l.show(latest(s, snaps))
		case c := <-l.clicks:
			if l.do(c) {
				return true
			}
		case <-l.wake:
			l.wake, l.wakeAt = nil, time.Time{}
			l.redraw(false)
		case <-l.toggled:
			// Always rebuild: a host may have flipped its check box on the
			// click, and only a new menu undoes that when Set failed.
			l.redraw(true)
		}
	}
}

// wait waits for click handlers and watchers; call after run returned and
// the jobs' context is cancelled.
func (l *loop) wait() { l.jobs.Wait() }

// latest returns the newest snapshot already waiting after s: the ones in
// between are stale and never drawn.
func latest(s poller.Snapshot, ch <-chan poller.Snapshot) poller.Snapshot {
	for {
		select {
		case n, ok := <-ch:
			if !ok {
				return s
			}
			s = n
		default:
			return s
		}
	}
}

// show draws s unless it is older than what is shown or would draw the
// same menu for the same new mails.
func (l *loop) show(s poller.Snapshot) {
	if l.haveDrawn && s.Seq < l.drawn.Seq {
		l.log.Debug("tray: skipping stale snapshot", "seq", s.Seq, "shown", l.drawn.Seq)
		return
	}
	l.pass(s)
	st := l.state()
	l.arm(st)
	m := l.adapt(View(s, st))
	if l.haveDrawn && reflect.DeepEqual(m, l.shown) && sameNew(s, l.drawn) {
		// Keep the drawn snapshot: it is the one the user sees, and it
		// marks exactly the same mails.
		return
	}
	l.draw(m, s)
	l.haveDrawn = true
}

// redraw draws the shown snapshot again with the current pause, autostart
// state and time; force rebuilds even an unchanged menu. Before the first
// snapshot there is nothing to redraw: the placeholder has none of these.
func (l *loop) redraw(force bool) {
	if !l.haveDrawn {
		return
	}
	if force {
		l.shown = Menu{}
	}
	l.show(l.drawn)
}

// state reads what the menu shows besides the snapshot.
func (l *loop) state() ViewState {
	st := ViewState{Now: l.now(), MarkOnServer: l.o.MarkOnServer != nil, AccountPause: l.o.SetEnabled != nil}
	if p := l.o.Pause; p != nil {
		st.Pause, st.PausedUntil = true, p.PausedUntil()
	}
	if a := l.o.Autostart; a != nil {
		on, err := a.Get()
		switch {
		case err == nil:
			l.autostartOn, l.getErr = on, ""
		case err.Error() != l.getErr: // keep the last state read; tell once
			l.getErr = err.Error()
			l.log.Warn("tray: reading Start at login failed", "err", err)
			l.notice("Could not read the Start at login setting: " + l.getErr)
		}
		st.Autostart, st.AutostartOn = true, l.autostartOn
	}
	return st
}

// arm sets the wake-up for the next change a running pause makes to the
// menu, unless it is already set for that time.
func (l *loop) arm(st ViewState) {
	var at time.Time
	if st.Pause {
		at = nextChange(st.PausedUntil, st.Now)
	}
	if at.Equal(l.wakeAt) {
		return
	}
	l.wakeAt, l.wake = at, nil
	if !at.IsZero() {
		l.wake = l.after(at.Sub(st.Now))
	}
}

// adapt disables the entries whose hook is missing.
func (l *loop) adapt(m Menu) Menu {
	var walk func([]Item)
	walk = func(items []Item) {
		for i := range items {
			it := &items[i]
			switch it.Action.Kind {
			case ActAddAccount:
				it.Disabled = it.Disabled || l.o.AddAccount == nil
			case ActAccounts:
				it.Disabled = it.Disabled || l.o.Accounts == nil
			case ActEditAccount:
				it.Disabled = it.Disabled || l.o.EditAccount == nil
			case ActOpenMail:
				it.Disabled = it.Disabled || l.o.OpenMail == nil
			}
			walk(it.Children)
		}
	}
	walk(m.Items)
	return m
}

// sameNew reports whether a and b list the same new mails per account.
func sameNew(a, b poller.Snapshot) bool {
	return slices.EqualFunc(a.Accounts, b.Accounts, func(x, y poller.AccountSnapshot) bool {
		return x.Name == y.Name && slices.Equal(x.NewIDs, y.NewIDs)
	})
}

// pass hands each account's new one-off notice to Options.Notice.
func (l *loop) pass(s poller.Snapshot) {
	for _, a := range s.Accounts {
		if a.Notice != "" && a.Notice != l.notices[a.Name] {
			l.log.Info("tray: notice", "account", a.Name, "notice", a.Notice)
			if l.o.Notice != nil {
				l.o.Notice(a.Name + ": " + a.Notice)
			}
		}
		l.notices[a.Name] = a.Notice
	}
}

// draw replaces the menu with m, whose clicks act on s.
func (l *loop) draw(m Menu, s poller.Snapshot) {
	l.cancelGen()
	gen, cancel := context.WithCancel(l.ctx)
	l.cancelGen = cancel
	l.ui.Reset()
	for _, it := range m.Items {
		l.add(gen, nil, it, s)
	}
	// Icon, title and tooltip are set on every rebuild, not only on change:
	// fyne keeps a value set while it is still exporting its D-Bus object
	// only in memory, so re-setting repairs a start-up race at the next
	// rebuild (set only on change, the first icon stayed lost until the
	// count changed). The title comes last, so a host that sees it change
	// sees the whole menu.
	l.ui.SetIcon(icons.ForTray(m.Icon))
	l.ui.SetTooltip(m.Tooltip)
	l.ui.SetTitle(m.Title)
	l.shown, l.drawn = m, s
}

func (l *loop) add(gen context.Context, parent any, it Item, s poller.Snapshot) {
	if it.Separator {
		l.ui.AddSeparator(parent)
		return
	}
	h, clicked := l.ui.Add(parent, it)
	for _, c := range it.Children {
		l.add(gen, h, c, s)
	}
	if it.Action.Kind == ActNone || it.Disabled || len(it.Children) > 0 {
		return
	}
	c := click{snap: s, act: it.Action}
	l.jobs.Add(1)
	go func() {
		defer l.jobs.Done()
		for {
			select {
			case <-gen.Done():
				return
			case _, ok := <-clicked:
				if !ok { // the menu was reset
					return
				}
				select {
				case l.clicks <- c:
				case <-gen.Done():
					return
				}
			}
		}
	}()
}

// do carries out a click; it reports whether the click was Quit. Anything
// that may block runs on a goroutine of its own so the menu stays live.
func (l *loop) do(c click) (quit bool) {
	a := c.act
	l.log.Debug("tray: click", "action", a.Kind, "account", a.Account, "seq", c.snap.Seq)
	switch a.Kind {
	case ActQuit:
		return true
	case ActMarkRead:
		l.job(func() {
			n, err := l.e.MarkRead(l.ctx, c.snap, a.Account)
			if err != nil {
				if l.ctx.Err() != nil {
					return
				}
				l.log.Warn("tray: mark read failed", "account", a.Account, "err", err)
				l.notice("Could not mark mail read: " + err.Error())
				return
			}
			l.log.Info("tray: marked read", "account", a.Account, "mails", n)
		})
	case ActCheckNow:
		l.job(func() { l.e.CheckNow(a.Account) })
	case ActAddAccount:
		if l.o.AddAccount != nil {
			l.job(l.o.AddAccount)
		}
	case ActAccounts:
		if l.o.Accounts != nil {
			l.job(l.o.Accounts)
		}
	case ActEditAccount:
		if l.o.EditAccount == nil {
			break
		}
		for _, acct := range c.snap.Accounts {
			if acct.Name == a.Account {
				l.job(func() { l.o.EditAccount(acct) })
				break
			}
		}
	case ActSetEnabled:
		if l.o.SetEnabled != nil {
			l.job(func() { l.setEnabled(a.Account, a.On) })
		}
	case ActMarkOnServer:
		if l.o.MarkOnServer == nil {
			break
		}
		l.job(func() {
			n, err := l.o.MarkOnServer(l.ctx, c.snap, a.Account)
			if err != nil {
				if l.ctx.Err() != nil {
					return
				}
				l.log.Warn("tray: mark read on server failed", "account", a.Account, "err", err)
				l.notice("Could not mark mail read on the server: " + err.Error())
				return
			}
			l.log.Info("tray: marked read on server", "account", a.Account, "mails", n)
		})
	case ActAutostart:
		t := l.o.Autostart
		if t == nil {
			break
		}
		l.job(func() {
			if err := t.Set(a.On); err != nil {
				l.log.Warn("tray: setting Start at login failed", "on", a.On, "err", err)
				verb := "turn off"
				if a.On {
					verb = "turn on"
				}
				l.notice("Could not " + verb + " Start at login: " + err.Error())
			}
			select {
			case l.toggled <- struct{}{}:
			default:
			}
		})
	case ActPauseHour, ActPauseTomorrow:
		if l.o.Pause == nil {
			break
		}
		until := l.now().Add(time.Hour)
		if a.Kind == ActPauseTomorrow {
			until = tomorrowMorning(l.now())
		}
		l.log.Info("tray: notifications paused", "until", until)
		l.o.Pause.Pause(until)
		l.redraw(false)
	case ActResume:
		if l.o.Pause == nil {
			break
		}
		l.log.Info("tray: notifications resumed")
		l.o.Pause.Resume()
		l.redraw(false)
	case ActOpenMail:
		if l.o.OpenMail == nil {
			break
		}
		for _, acct := range c.snap.Accounts {
			if acct.Name != a.Account {
				continue
			}
			for _, m := range acct.Mails {
				if m.ID == a.MailID {
					l.job(func() { l.o.OpenMail(acct, m) })
					return false
				}
			}
		}
	}
	return false
}

func (l *loop) job(f func()) {
	l.jobs.Add(1)
	go func() {
		defer l.jobs.Done()
		f()
	}()
}

func (l *loop) notice(msg string) {
	if l.o.Notice != nil {
		l.o.Notice(msg)
	}
}
