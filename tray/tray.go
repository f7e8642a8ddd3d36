// Package tray shows MailSneaker in the system tray: it turns each snapshot
// of the poller into an icon, a title, a tooltip and a menu (view.go, pure),
// and turns clicks into commands for the engine. It is the only package that
// imports fyne.io/systray, and one goroutine makes every systray call.
package tray

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"fyne.io/systray"

	"mailsneaker/internal/sessionbus"
	"mailsneaker/poller"
)

// Engine is what the tray needs from the poller (poller.Manager satisfies it).
type Engine interface {
	// Snapshots delivers every published snapshot until ctx ends; the channel
	// holds the latest one, and the tray skips any that a newer one has
	// overtaken. The channel closes when the subscription ends.
	Snapshots(ctx context.Context) <-chan poller.Snapshot
	// MarkRead marks as read the new mails of account ("" = all) that seen
	// lists, and no others; it returns how many it marked.
	MarkRead(ctx context.Context, seen poller.Snapshot, account string) (int, error)
	// CheckNow asks for an immediate check of account ("" = all).
	CheckNow(account string) error
}

// Options are the tray's optional hooks; the zero value is valid: a nil hook
// disables (AddAccount, OpenMail) or hides (the others) the menu entries
// that need it.
type Options struct {
	AddAccount func() // "Add account…"; called on its own goroutine
	Accounts   func() // "Accounts…" (edit, remove); on its own goroutine
	// EditAccount is each account's "Edit account…", or "Change
	// password…" when its login was refused: it opens the account's
	// settings, acct as the menu showed it (its Err says what to fix).
	// Called on its own goroutine.
	EditAccount func(acct poller.AccountSnapshot)
	OpenMail    func(acct poller.AccountSnapshot, m poller.Mail) // a click on a mail; on its own goroutine
	Logger      *slog.Logger                                     // nil: discard
	Notice      func(string)                                     // one-off messages for the user; any goroutine

	// Autostart is "Start at login", a check box showing what Get reads at
	// every rebuild and after every click.
	Autostart *Toggle
	// Pause is the "Pause notifications" submenu; notifier.Batcher
	// satisfies it.
	Pause Pauser
	// MarkOnServer is "Mark read on server" in each IMAP account's submenu:
	// it marks read, here and on the server, the new mails of account that
	// seen lists (the snapshot the menu was drawn from) and returns how many.
	// It is called on a goroutine of its own; ctx ends when Run returns.
	MarkOnServer func(ctx context.Context, seen poller.Snapshot, account string) (int, error)
	// SetEnabled is "Pause" / "Resume" in each account's submenu: it
	// writes enabled to the config file, which the caller follows. It is
	// called on a goroutine of its own.
	SetEnabled func(account string, on bool) error
}

// Toggle is an on/off setting the menu shows as a check box. Get is called
// on the tray's goroutine at every snapshot, so it must be quick (a file or
// registry read); Set runs on a goroutine of its own, possibly while Get
// runs. Both must be non-nil.
type Toggle struct {
	Get func() (bool, error)
	Set func(on bool) error
}

// Pauser holds desktop notifications back (notifier.Batcher satisfies it).
// Its methods are called on the tray's goroutine and must not block.
type Pauser interface {
	// PausedUntil is the end of the current pause; zero, or a time past,
	// when not paused.
	PausedUntil() time.Time
	// Pause holds notifications back until the given time.
	Pause(until time.Time)
	// Resume ends a pause at once.
	Resume()
}

// ErrRunTwice is returned by a second call of Run: systray keeps its state
// in package variables and can run once per process.
var ErrRunTwice = errors.New("tray: Run can only be called once per process")

// ErrNoSessionBus is HostAvailable's answer on Linux when there is no D-Bus
// session bus to show a tray icon on.
var ErrNoSessionBus = sessionbus.ErrNoSessionBus

// ran makes a second Run fail instead of returning at once: systray's quit
// channel is closed for good after the first.
var ran atomic.Bool

// Run shows the tray icon and menu until the user clicks Quit (Run returns
// nil), ctx is done (it returns ctx.Err()), or the engine closes its
// snapshot channel (nil). It blocks meanwhile.
//
// On macOS Run must be called from the main goroutine: AppKit only works on
// the main thread, which systray's init locks to the main goroutine. On
// Windows and Linux any goroutine will do (Run locks it to its OS thread,
// which the Windows message loop needs). On Linux the icon appears only if a
// StatusNotifier host runs: check HostAvailable first and tell the user.
func Run(ctx context.Context, e Engine, o Options) error {
	if ran.Swap(true) {
		return ErrRunTwice
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	jobCtx, cancelJobs := context.WithCancel(ctx)
	defer cancelJobs()
	l := newLoop(jobCtx, e, o, systrayUI{})
	done := make(chan struct{})
	var userQuit bool
	systray.Run(func() {
		// systray calls onReady on a goroutine of its own and answers no
		// menu request until it returns: build the first menu, then return.
		ready := make(chan struct{})
		go func() {
			defer close(done)
			userQuit = l.run(ctx, ready)
			systray.Quit()
		}()
		<-ready
	}, nil)
	<-done
	cancelJobs()
	l.wait()
	if !userQuit && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// systrayUI is the real ui: fyne.io/systray. Every method is called from the
// loop goroutine only.
type systrayUI struct{}

func (systrayUI) SetIcon(b []byte)    { systray.SetIcon(b) }
func (systrayUI) SetTitle(s string)   { systray.SetTitle(s) }
func (systrayUI) SetTooltip(s string) { systray.SetTooltip(tooltipText(s)) }
func (systrayUI) Reset()              { systray.ResetMenu() }

// Add creates a check box with its final state rather than calling Check
// or Uncheck later: the loop rebuilds the menu whenever the state changes.
func (systrayUI) Add(parent any, it Item) (any, <-chan struct{}) {
	label := menuLabel(it.Label)
	p, _ := parent.(*systray.MenuItem)
	var mi *systray.MenuItem
	switch {
	case p != nil && it.Checkable:
		mi = p.AddSubMenuItemCheckbox(label, "", it.Checked)
	case p != nil:
		mi = p.AddSubMenuItem(label, "")
	case it.Checkable:
		mi = systray.AddMenuItemCheckbox(label, "", it.Checked)
	default:
		mi = systray.AddMenuItem(label, "")
	}
	if it.Disabled {
		mi.Disable()
	}
	return mi, mi.ClickedCh
}

func (systrayUI) AddSeparator(parent any) {
	if p, ok := parent.(*systray.MenuItem); ok && p != nil {
		p.AddSeparator()
		return
	}
	systray.AddSeparator()
}

// NoHostHint is what to tell the user when HostAvailable found no tray host;
// err is HostAvailable's error, if any.
func NoHostHint(err error) string {
	why := ""
	if err != nil {
		why = " (" + err.Error() + ")"
	}
	return "no system tray found" + why + ": install a StatusNotifier host (GNOME: the AppIndicator extension); " +
		"the icon appears when one starts. `mailsneaker check` works without a tray."
}
