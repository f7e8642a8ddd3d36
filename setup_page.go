package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/cli/browser"

	"mailsneaker/poller"
	"mailsneaker/setup"
)

// setupPage opens the add-account page in the browser, starting its server
// on first use and again after it stopped (save, cancel, idle).
type setupPage struct {
	ctx        context.Context
	log        *slog.Logger
	configPath string
	engine     *poller.Manager
	notice     func(string)

	mu  sync.Mutex
	srv *setup.Server
}

// open shows the page; called from the tray on its own goroutine.
func (p *setupPage) open() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		select {
		case <-p.srv.Done():
			p.srv = nil
		default:
		}
	}
	if p.srv == nil {
		srv, err := setup.Start(p.ctx, setup.Options{ConfigPath: p.configPath, Engine: p.engine, Logger: p.log})
		if err != nil {
			p.log.Error("cannot start the setup page", "err", err)
			p.notice("cannot start the setup page: " + err.Error())
			return
		}
		p.srv = srv
	}
	if err := browser.OpenURL(p.srv.URL()); err != nil {
		// No browser to open: the user can still paste the address.
		p.log.Warn("cannot open a browser", "err", err)
		p.notice("open " + p.srv.URL() + " in a browser to add an account")
	}
}
