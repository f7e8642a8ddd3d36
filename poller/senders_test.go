package poller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
)

// fromChecker finds n unread mails; mail i comes from froms[i%len(froms)].
// Like the real checkers it describes at most MaxMails wanted mails per check.
type fromChecker struct {
	n     int
	froms []string
}

func (c fromChecker) Check(ctx context.Context, q Query) (*Inbox, error) {
	in := &Inbox{Mails: map[string]Mail{}, Unread: c.n}
	for i := range c.n {
		in.IDs = append(in.IDs, fmt.Sprintf("m%03d", i))
	}
	for i := c.n - 1; i >= 0 && len(in.Mails) < MaxMails; i-- {
		id := in.IDs[i]
		if q.Want != nil && q.Want(id) {
			from := c.froms[i%len(c.froms)]
			in.Mails[id] = Mail{ID: id, From: from, Address: accounts.SenderAddress(from), MessageID: "<" + id + "@x>"}
		}
	}
	return in, nil
}

func (c fromChecker) Wait(ctx context.Context, d time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (c fromChecker) Close() error { return nil }

func snapOf(s Snapshot, name string) AccountSnapshot {
	a, _ := s.account(name)
	return a
}

// TestSendersQuietAndIgnored: ignore_from mail is neither counted nor in
// NewIDs, quiet_from mail is counted and listed in QuietIDs; with more new
// mail than one check describes (MaxMails), the account checks again until
// every sender is known; a restart on the same seen set decides the same;
// Mark read dismisses the ignored ones too.
func TestSendersQuietAndIgnored(t *testing.T) {
	dir := t.TempDir()
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "h", Username: "u", PollInterval: time.Hour,
		QuietFrom: []string{"*@GitHub.com"}, IgnoreFrom: []string{"news@shop.example"}}.WithDefaults()
	// 60 mails: 20 from each sender, more than one check describes.
	ck := fromChecker{n: 60, froms: []string{"Ann <ann@example.org>", "GitHub <noreply@github.com>", `"Shop" <NEWS@shop.example>`}}
	o := ManagerOptions{Accounts: []accounts.Account{a}, NewChecker: func(accounts.Account) Checker { return ck }}

	want := func(s Snapshot) bool {
		x := snapOf(s, "a")
		return x.State == StateOK && x.New == 40 && x.Ignored == 20 && len(x.QuietIDs) == 20
	}
	o.Store = mustOpenStore(t, dir)
	_, sub, stop := startManager(t, o)
	s := waitSnap(t, sub, "40 new, 20 ignored, 20 quiet", want)
	x := snapOf(s, "a")
	if s.Total != 40 || len(x.IgnoredIDs) != 20 {
		t.Fatalf("total %d, ignored ids %d", s.Total, len(x.IgnoredIDs))
	}
	for _, id := range x.IgnoredIDs {
		if slices.Contains(x.NewIDs, id) {
			t.Fatalf("ignored %s is in NewIDs", id)
		}
	}
	for _, id := range x.QuietIDs {
		if !slices.Contains(x.NewIDs, id) {
			t.Fatalf("quiet %s is not in NewIDs", id)
		}
	}
	stop()

	// After a restart the same mail is ignored again, not counted.
	o.Store = mustOpenStore(t, dir)
	m, sub, stop := startManager(t, o)
	s = waitSnap(t, sub, "the same after a restart", want)

	if _, err := m.MarkRead(context.Background(), s, ""); err != nil {
		t.Fatal(err)
	}
	s = waitSnap(t, sub, "all read, ignored ones too", func(s Snapshot) bool {
		x := snapOf(s, "a")
		return x.New == 0 && x.Ignored == 0
	})
	stop()
	// Dismissed for good: a restart counts nothing.
	o.Store = mustOpenStore(t, dir)
	_, sub, stop = startManager(t, o)
	waitSnap(t, sub, "nothing after mark read and a restart", func(s Snapshot) bool {
		x := snapOf(s, "a")
		return x.State == StateOK && x.New == 0 && x.Ignored == 0
	})
	stop()
}

// TestPausedAccountMakesNoChecker: an account with enabled = false gets no
// checker (so no connection), shows Paused, does not hold up Sleep, and
// starts when resumed by SetAccounts.
func TestPausedAccountMakesNoChecker(t *testing.T) {
	a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "h", Username: "u", PollInterval: time.Hour, Disabled: true}.WithDefaults()
	var mu sync.Mutex
	made := 0
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker {
			mu.Lock()
			defer mu.Unlock()
			made++
			return listChecker{ids: []string{"x"}}
		}})
	waitSnap(t, sub, "paused", func(s Snapshot) bool { return snapOf(s, "a").Paused })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.CheckNow("a"); err != nil {
		t.Fatal(err)
	}
	if err := m.Sleep(ctx); err != nil {
		t.Fatalf("Sleep with a paused account: %v", err)
	}
	if err := m.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if made != 0 {
		t.Fatalf("%d checkers made for a paused account", made)
	}
	mu.Unlock()
	a.Disabled = false
	if err := m.SetAccounts(ctx, []accounts.Account{a}); err != nil {
		t.Fatal(err)
	}
	waitSnap(t, sub, "resumed and checked", func(s Snapshot) bool {
		x := snapOf(s, "a")
		return !x.Paused && x.State == StateOK
	})
	a.Disabled = true
	if err := m.SetAccounts(ctx, []accounts.Account{a}); err != nil {
		t.Fatal(err)
	}
	waitSnap(t, sub, "paused again, its count gone", func(s Snapshot) bool {
		x := snapOf(s, "a")
		return x.Paused && x.New == 0 && s.Total == 0
	})
	stop()
}

// TestCheckOnceSkipsPaused: the CLI's one-off check makes no checker for a
// paused account either.
func TestCheckOnceSkipsPaused(t *testing.T) {
	on := accounts.Account{Name: "on", Protocol: accounts.IMAP, Host: "h", Username: "u"}.WithDefaults()
	off := on
	off.Name, off.Disabled = "off", true
	var made []string
	m := NewManager(ManagerOptions{Accounts: []accounts.Account{on, off}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(a accounts.Account) Checker { made = append(made, a.Name); return listChecker{ids: []string{"x"}} }})
	s := m.CheckOnce(context.Background())
	if !slices.Equal(made, []string{"on"}) {
		t.Fatalf("checkers made for %q; want only on", made)
	}
	if x := snapOf(s, "off"); !x.Paused || x.New != 0 {
		t.Errorf("off: %+v", x)
	}
	if x := snapOf(s, "on"); x.State != StateOK || x.New != 1 {
		t.Errorf("on: %+v", x)
	}
}

// TestFromAddress: both checkers keep the From address for the patterns,
// lower-cased; a From that does not parse gives none (and no panic).
func TestFromAddress(t *testing.T) {
	for from, want := range map[string]string{
		`"Shop" <NEWS@Shop.example>`:                    "news@shop.example",
		"=?utf-8?q?Caf=C3=A9?= <cafe@example.org>":      "cafe@example.org",
		"noreply@github.com":                            "noreply@github.com",
		"<x@y>; rm -rf ~":                               "",
		"\"unterminated <a@b>":                          "",
		strings.Repeat("<", 10000) + "a@b":              "",
		"a@b, c@d":                                      "a@b",
		"undisclosed-recipients:;":                      "",
		"Ann <ann@example.org> (comment \x00\xff here)": "ann@example.org",
	} {
		h := parsePOP3Header([]byte("From: " + from + "\r\nSubject: s\r\n"))
		if got := h.mail("1").Address; got != want {
			t.Errorf("POP3 From %.40q: address %q, want %q", from, got, want)
		}
	}
	env := &imap.Envelope{From: []imap.Address{{Name: "GitHub", Mailbox: "NoReply", Host: "GitHub.com"}}}
	if got := imapMail("INBOX", 1, 7, env, 0).Address; got != "noreply@github.com" {
		t.Errorf("IMAP address %q", got)
	}
}
