package setup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"

	"mailsneaker/launch"
	"mailsneaker/poller"
)

// Launcher opens the setup pages in the browser for the tray, starting the
// server on first use and again after it stopped (save, cancel, idle).
type Launcher struct {
	ctx    context.Context
	o      Options
	notice func(string)
	open   func(path string) error // launch.File; tests replace it

	mu  sync.Mutex
	srv *Server
}

// NewLauncher returns a Launcher whose servers run with o until ctx ends;
// notice tells the user what went wrong when no browser opens.
func NewLauncher(ctx context.Context, o Options, notice func(string)) *Launcher {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Launcher{ctx: ctx, o: o, notice: notice, open: launch.File}
}

// Add shows the add-account page; the tray calls it on its own goroutine.
func (l *Launcher) Add() { l.show("", nil) }

// Accounts shows the accounts, to edit or remove them.
func (l *Launcher) Accounts() { l.show("accounts", nil) }

// Edit shows the settings of the account name, for the tray's "Edit
// account…" and "Change password…". problem is what the account's last
// check said, nil if it went well: the page shows it in full, with the
// certificate the server sent when that was not trusted, and after a
// refused login, or with no password stored, it opens with the password
// field focused.
func (l *Launcher) Edit(name string, problem *poller.CheckError) {
	q := url.Values{"name": {name}}
	if problem != nil && (problem.Kind == poller.KindAuth || problem.PasswordMissing()) {
		q.Set("focus", "password")
	}
	l.show("edit?"+q.Encode(), func(s *Server) { s.noteProblem(name, problem) })
}

// Wait blocks until the page that Add, Accounts or Edit opened has
// stopped, and says why: "saved", "cancelled", "idle", ...; "" when ctx
// ended first or no page was started.
func (l *Launcher) Wait(ctx context.Context) string {
	l.mu.Lock()
	srv := l.srv
	l.mu.Unlock()
	if srv == nil {
		return ""
	}
	select {
	case <-srv.Done():
		return srv.reason
	case <-ctx.Done():
		return ""
	}
}

// show opens page in the browser through a new launch file; prep, if not
// nil, readies the server that serves it.
func (l *Launcher) show(page string, prep func(*Server)) {
	file, err := l.launchFile(page, prep)
	if err != nil {
		l.o.Logger.Error("cannot start the setup page", "err", err)
		l.notice("cannot start the setup page: " + err.Error())
		return
	}
	// Outside the lock: the opener may take a while.
	if err := l.open(file); err != nil {
		// No browser to open: the user can still open the file; it holds
		// the single-use link, the notice only its name.
		l.o.Logger.Warn("cannot open a browser", "err", err)
		l.notice(fmt.Sprintf("open %s in a browser within %d minutes to set up accounts", file, int(LaunchTTL.Minutes())))
	}
}

// launchFile starts the server if none runs and returns a new launch file.
func (l *Launcher) launchFile(page string, prep func(*Server)) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.srv != nil {
			select {
			case <-l.srv.Done():
				l.srv = nil
			default:
			}
		}
		if l.srv == nil {
			srv, err := Start(l.ctx, l.o)
			if err != nil {
				return "", err
			}
			l.srv = srv
		}
		if prep != nil {
			prep(l.srv)
		}
		file, err := l.srv.launchFile(page)
		if !errors.Is(err, errStopped) {
			return file, err
		}
		// It stopped just now (idle); a stopped server ends its Done.
		<-l.srv.Done()
	}
}
