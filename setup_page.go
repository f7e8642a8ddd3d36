package main

import (
	"context"
	"log/slog"
	"strings"
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

// add shows the add-account page; called from the tray on its own goroutine.
func (p *setupPage) add() { p.open("/") }

// list shows the accounts, to edit or remove them.
func (p *setupPage) list() { p.open("/accounts") }

// open shows the page at path.
func (p *setupPage) open(path string) {
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
	// The token query works on any page: URL() is http://host/?token=….
	url := strings.Replace(p.srv.URL(), "/?", path+"?", 1)
	if err := browser.OpenURL(url); err != nil {
		// No browser to open: the user can still paste the address.
		p.log.Warn("cannot open a browser", "err", err)
		p.notice("open " + url + " in a browser to set up accounts")
	}
}
