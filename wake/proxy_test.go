package wake_test

import (
	"errors"
	"net"
	"sync"
	"testing"
)

// proxy forwards 127.0.0.1 connections to a server and can stop: "drop"
// discards every byte both ways while connections stay open (packets
// silently lost); "refuse" resets every connection and closes the port
// (connection refused); "forward" resumes on the same port, and closes the
// connections whose bytes were dropped, which are broken anyway.
type proxy struct {
	t      testing.TB
	target string
	addr   string

	mu      sync.Mutex
	mode    string
	ln      net.Listener
	conns   map[net.Conn]bool // client side → bytes were dropped
	wg      sync.WaitGroup
	stopped bool
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, target: target, addr: ln.Addr().String(), mode: "forward", conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.handle(c)
		}
	}()
}

func (p *proxy) handle(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	// Accepted just before set("refuse") closed the port: refused too.
	if p.stopped || p.mode == "refuse" {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c] = p.mode == "drop"
	p.mu.Unlock()
	done := func() {
		c.Close()
		s.Close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}
	p.wg.Add(2)
	go func() { defer p.wg.Done(); p.pump(c, s, c); done() }()
	go func() { defer p.wg.Done(); p.pump(s, c, c); done() }()
}

// pump copies from → to, discarding what it reads while the mode is drop.
func (p *proxy) pump(from, to, client net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			p.mu.Lock()
			drop := p.mode == "drop"
			if drop {
				p.conns[client] = true
			}
			p.mu.Unlock()
			if !drop {
				if _, werr := to.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// set switches the mode.
func (p *proxy) set(mode string) {
	p.t.Helper()
	p.mu.Lock()
	old := p.mode
	p.mode = mode
	var kill []net.Conn
	for c, dropped := range p.conns {
		if mode == "refuse" || mode == "forward" && dropped {
			kill = append(kill, c)
		}
	}
	p.mu.Unlock()
	for _, c := range kill {
		if tc, ok := c.(*net.TCPConn); ok && mode == "refuse" {
			tc.SetLinger(0) // a reset, as from a closed port
		}
		c.Close()
	}
	switch {
	case mode == "refuse" && old != "refuse":
		p.ln.Close()
	case mode != "refuse" && old == "refuse":
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			p.t.Fatalf("listen again on %s: %v", p.addr, err)
		}
		p.serve(ln)
	}
}

func (p *proxy) close() {
	p.mu.Lock()
	p.stopped = true
	var all []net.Conn
	for c := range p.conns {
		all = append(all, c)
	}
	p.mu.Unlock()
	if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		p.t.Log(err)
	}
	for _, c := range all {
		c.Close()
	}
	p.wg.Wait()
}
