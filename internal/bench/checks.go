//go:build linux

package main

import (
	"context"
	"fmt"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// sizeUser is the mailbox user holding n messages (10 % unseen).
func sizeUser(n int) mailUser {
	return mailUser{name: "size" + sizeName(n), password: "pw" + sizeName(n)}
}

func (s *server) account(proto accounts.Protocol, sec accounts.Security, u mailUser, folders ...string) accounts.Account {
	a := accounts.Account{Name: u.name, Protocol: proto, Host: "127.0.0.1", Security: sec,
		Username: u.name, PollInterval: time.Hour, Folders: folders}
	switch {
	case proto == accounts.POP3 && sec == accounts.TLS:
		a.Port = s.pop3s
	case proto == accounts.POP3:
		a.Port = s.pop3
	case sec == accounts.TLS:
		a.Port = s.imaps
	default:
		a.Port = s.imap
	}
	if proto == accounts.IMAP && len(folders) == 0 {
		a.Folders = []string{"INBOX"}
	}
	if proto == accounts.IMAP {
		// Every folder pushed (IDLE), as these figures have always measured.
		a.MaxConnections = min(len(a.Folders)+1, accounts.MaxMaxConnections)
	}
	return a
}

func (s *server) options(u mailUser, m *meter) *poller.Options {
	pw := u.password
	return &poller.Options{
		Password: func(context.Context) (string, error) { return pw, nil },
		RootCAs:  s.roots,
		Dial:     m.dial,
	}
}

// knownQuery is the manager's steady state: every id seen in a check is
// known, so no envelope is wanted.
func knownQuery(in *poller.Inbox) poller.Query {
	known := make(map[string]struct{}, len(in.IDs))
	for _, id := range in.IDs {
		known[id] = struct{}{}
	}
	return poller.Query{Want: func(id string) bool { _, ok := known[id]; return !ok }}
}

// imapResult is P2 for one size and security.
type imapResult struct {
	size        int
	security    accounts.Security
	first       time.Duration // connect, login, STATUS, EXAMINE+SEARCH, FETCH
	firstBytes  int64
	time        time.Duration // median of the unchanged checks
	bytes       int64
	commands    int64 // lines written (clear text only)
	roundTrips  int64
	unseen, ids int
}

// benchIMAPUnchanged runs P2: one kept IMAP session, checks of an unchanged
// folder.
func benchIMAPUnchanged(ctx context.Context, s *server, n int, sec accounts.Security, runs int) (imapResult, error) {
	u := sizeUser(n)
	m := &meter{}
	ck := poller.NewIMAP(s.account(accounts.IMAP, sec, u), s.options(u, m))
	defer ck.Close()
	r := imapResult{size: n, security: sec}
	t0, start := m.now(), time.Now()
	in, err := ck.Check(ctx, poller.Query{Want: func(string) bool { return true }})
	if err != nil {
		return r, fmt.Errorf("imap %s first check: %w", u.name, err)
	}
	r.first, r.firstBytes = time.Since(start), m.now().sub(t0).read
	r.unseen, r.ids = in.Unread, len(in.IDs)
	q := knownQuery(in)
	if _, err := ck.Check(ctx, q); err != nil { // warm-up
		return r, err
	}
	var times []time.Duration
	var read, lines, flights []int64
	for range runs {
		t0, start := m.now(), time.Now()
		if _, err := ck.Check(ctx, q); err != nil {
			return r, fmt.Errorf("imap %s check: %w", u.name, err)
		}
		times = append(times, time.Since(start))
		d := m.now().sub(t0)
		read, lines, flights = append(read, d.read), append(lines, d.lines), append(flights, d.flights)
	}
	r.time, r.bytes, r.roundTrips = median(times), median(read), maxOf(flights)
	if sec == accounts.None {
		r.commands = maxOf(lines)
	}
	return r, nil
}

// pop3Result is P3 for one size.
type pop3Result struct {
	size                   int
	time, floor            time.Duration
	bytes, floorBytes      int64
	roundTrips, floorTrips int64
	messages               int
}

// benchPOP3 runs P3: steady-state POP3 checks against the bare STAT+UIDL
// session over the same kind of connection, interleaved.
func benchPOP3(ctx context.Context, s *server, n int, runs int) (pop3Result, error) {
	u := sizeUser(n)
	m := &meter{}
	ck := poller.NewPOP3(s.account(accounts.POP3, accounts.TLS, u), s.options(u, m))
	defer ck.Close()
	r := pop3Result{size: n}
	in, err := ck.Check(ctx, poller.Query{Want: func(string) bool { return true }})
	if err != nil {
		return r, fmt.Errorf("pop3 %s first check: %w", u.name, err)
	}
	r.messages = len(in.IDs)
	q := knownQuery(in)
	if _, err := ck.Check(ctx, q); err != nil { // warm-up
		return r, err
	}
	if _, err := s.pop3Floor(ctx, m, u.name, u.password); err != nil {
		return r, fmt.Errorf("pop3 floor: %w", err)
	}
	var ct, ft []time.Duration
	var cb, fb, crt, frt []int64
	for range runs {
		t0, start := m.now(), time.Now()
		if _, err := ck.Check(ctx, q); err != nil {
			return r, fmt.Errorf("pop3 %s check: %w", u.name, err)
		}
		ct = append(ct, time.Since(start))
		d := m.now().sub(t0)
		cb, crt = append(cb, d.read), append(crt, d.flights)

		t0, start = m.now(), time.Now()
		got, err := s.pop3Floor(ctx, m, u.name, u.password)
		if err != nil {
			return r, fmt.Errorf("pop3 floor: %w", err)
		}
		if got != n {
			return r, fmt.Errorf("pop3 floor: UIDL listed %d messages, want %d", got, n)
		}
		ft = append(ft, time.Since(start))
		d = m.now().sub(t0)
		fb, frt = append(fb, d.read), append(frt, d.flights)
	}
	r.time, r.floor = median(ct), median(ft)
	r.bytes, r.floorBytes = median(cb), median(fb)
	r.roundTrips, r.floorTrips = median(crt), median(frt)
	return r, nil
}
