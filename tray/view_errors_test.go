package tray

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// troubled is one account per kind of error, each as the poller reports it.
func troubled() poller.Snapshot {
	failed, retry := now.Add(-2*time.Minute), now.Add(3*time.Minute)
	bad := func(name, proto string, e *poller.CheckError) poller.AccountSnapshot {
		return poller.AccountSnapshot{Name: name, Protocol: proto, State: poller.StateError, Err: e, Failed: failed, Retry: retry}
	}
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "mail.example.org"}}
	return poller.Snapshot{Total: 3, Accounts: []poller.AccountSnapshot{
		{Name: "home", Protocol: "imap", State: poller.StateOK, New: 3, Checked: now.Add(-time.Minute)},
		bad("work", "imap", &poller.CheckError{Kind: poller.KindAuth,
			Msg: "login refused by 127.0.0.1: check the password",
			Err: &poller.ServerReply{Text: "[AUTHENTICATIONFAILED] Authentication failed."}}),
		bad("old-isp", "pop3", &poller.CheckError{Kind: poller.KindNetwork,
			Msg: "cannot reach pop.old-isp.example:995", Err: errors.New("dial tcp: i/o timeout")}),
		bad("self-hosted", "imap", &poller.CheckError{Kind: poller.KindTLS,
			Msg: "certificate of mail.example.org:993 is not signed by a trusted authority: set ca_file to its CA if you trust this server",
			Err: fmt.Errorf("tls: %w", x509.UnknownAuthorityError{Cert: cert})}),
		bad("plain", "imap", &poller.CheckError{Kind: poller.KindTLS,
			Msg: "TLS handshake with mail.example.org:143 failed: is security (tls/starttls) right for port 143?",
			Err: errors.New("tls: first record does not look like a TLS handshake")}),
		bad("busy", "imap", &poller.CheckError{Kind: poller.KindProtocol, Msg: "127.0.0.1 refused login",
			Err: &poller.ServerReply{Text: "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)"}}),
		bad("folders", "imap", &poller.CheckError{Kind: poller.KindConfig, Msg: "folder Archiv does not exist on 127.0.0.1"}),
		bad("nopw", "pop3", &poller.CheckError{Kind: poller.KindConfig, Msg: `cannot get the password of account "nopw"`,
			Err: &accounts.KeychainError{Op: "get", Account: "nopw", Kind: accounts.ErrNoPassword}}),
		bad("odd", "pop3", &poller.CheckError{Kind: poller.KindProtocol, Msg: "127.0.0.1 refused UIDL",
			Err: &poller.ServerReply{Text: "-ERR " + strings.Repeat("Unsupported command, please upgrade ", 6)}}),
		{Name: "new", Protocol: "imap", State: poller.StateStarting},
	}}
}

// TestViewErrorKinds: a failing account's submenu says in a short line
// what is wrong, by kind, the server's words on a second line, and leads
// to the fix; the time line says when it failed and when the next try is.
func TestViewErrorKinds(t *testing.T) {
	m := View(troubled(), ViewState{Now: now})
	var b strings.Builder
	render(m.Items, 0, &b)
	want := `3 new mails · 8 accounts need attention [-]
home — 3 new
  Last checked 15:08 [-]
  Check now {checknow home}
  Mark read {markread home}
  Edit account… {editaccount home}
work — login refused
  Wrong password, or the server refused the login [-]
  Server: [AUTHENTICATIONFAILED] Authentication failed. [-]
  Change password… {editaccount work}
  ---
  Failed at 15:07 — next try 15:12 [-]
  Check now {checknow work}
  Mark read [-] {markread work}
old-isp — server unreachable
  Server not reachable — are you offline? [-]
  Edit account… {editaccount old-isp}
  ---
  Failed at 15:07 — next try 15:12 [-]
  Check now {checknow old-isp}
  Mark read [-] {markread old-isp}
self-hosted — secure connection failed
  Certificate not trusted [-]
  Edit account… {editaccount self-hosted}
  ---
  Failed at 15:07 — next try 15:12 [-]
  Check now {checknow self-hosted}
  Mark read [-] {markread self-hosted}
plain — secure connection failed
  Secure connection failed — check the security setting [-]
  Edit account… {editaccount plain}
  ---
  Failed at 15:07 — next try 15:12 [-]
  Check now {checknow plain}
  Mark read [-] {markread plain}
busy — too many connections
  Too many connections to this server [-]
  Server: Maximum number of connections from user+IP… [-]
  Edit account… {editaccount busy}
  ---
  Failed at 15:07 — next try 15:12 [-]
  Check now {checknow busy}
  Mark read [-] {markread busy}
folders — settings problem
  The account's settings need a fix [-]
  Edit account… {editaccount folders}
  ---
  Failed at 15:07 — next try 15:12 [-]
  Check now {checknow folders}
  Mark read [-] {markread folders}
nopw — settings problem
  No password stored for this account [-]
  Set password… {editaccount nopw}
  ---
  Failed at 15:07 — next try 15:12 [-]
  Check now {checknow nopw}
  Mark read [-] {markread nopw}
odd — server error
  The server answered something unexpected [-]
  Server: Unsupported command, please upgrade Unsupported… [-]
  Edit account… {editaccount odd}
  ---
  Failed at 15:07 — next try 15:12 [-]
  Check now {checknow odd}
  Mark read [-] {markread odd}
new — checking…
  Checking… [-]
  Check now {checknow new}
  Mark read [-] {markread new}
  Edit account… {editaccount new}
---
Mark all read {markread}
Check now {checknow}
Add account… {addaccount}
Accounts… {accounts}
Quit {quit}
`
	if got := b.String(); got != want {
		t.Errorf("menu:\n%s\nwant:\n%s", got, want)
	}
	wantTip := "3 new mails · 8 accounts need attention\nhome: 3 new\nwork: login refused\nold-isp: server unreachable\n" +
		"self-hosted: secure connection failed\nplain: secure connection failed\nbusy: too many connections\n" +
		"folders: settings problem\nnopw: settings problem\nodd: server error\nnew: checking…"
	if m.Tooltip != wantTip {
		t.Errorf("tooltip:\n%s\nwant:\n%s", m.Tooltip, wantTip)
	}
}

// TestViewTimeLines: the time line tells the truth in each state, across
// midnight too.
func TestViewTimeLines(t *testing.T) {
	late := time.Date(2026, 3, 14, 23, 58, 0, 0, time.UTC)
	tests := []struct {
		name string
		a    poller.AccountSnapshot
		now  time.Time
		want string
	}{
		{"first check running", poller.AccountSnapshot{State: poller.StateStarting}, now, "Checking…"},
		{"checked", poller.AccountSnapshot{State: poller.StateOK, Checked: now.Add(-time.Minute)}, now, "Last checked 15:08"},
		{"failed, retry today", poller.AccountSnapshot{State: poller.StateError, Failed: now, Retry: now.Add(5 * time.Minute)}, now,
			"Failed at 15:09 — next try 15:14"},
		{"failed before midnight, retry after", poller.AccountSnapshot{State: poller.StateError, Failed: late, Retry: late.Add(5 * time.Minute)}, late,
			"Failed at 23:58 — next try tomorrow 00:03"},
		{"failed yesterday", poller.AccountSnapshot{State: poller.StateError, Failed: now.Add(-24 * time.Hour), Retry: now.Add(time.Minute)}, now,
			"Failed at Mar 13 15:09 — next try 15:10"},
		{"failed, no retry planned", poller.AccountSnapshot{State: poller.StateError, Failed: now}, now, "Failed at 15:09"},
		{"offline: network errors in a row", poller.AccountSnapshot{State: poller.StateError, Err: &poller.CheckError{Kind: poller.KindNetwork},
			ErrSince: now.Add(-20 * time.Minute), Failed: now, Retry: now.Add(5 * time.Minute)}, now,
			"Offline since 14:49 — next try 15:14"},
		{"a refused login is no offline", poller.AccountSnapshot{State: poller.StateError, Err: &poller.CheckError{Kind: poller.KindAuth},
			ErrSince: now.Add(-20 * time.Minute), Failed: now, Retry: now.Add(5 * time.Minute)}, now,
			"Failed at 15:09 — next try 15:14"},
		{"failed, retry within the minute", poller.AccountSnapshot{State: poller.StateError, Failed: now, Retry: now.Add(5600 * time.Millisecond)}, now,
			"Failed at 15:09 — retrying in 6 s"},
	}
	for _, tt := range tests {
		if got := timeLine(tt.a, tt.now); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestViewLabelsFit: no label is longer than MaxLabel runes, whatever the
// account's name, the server's words or the mail.
func TestViewLabelsFit(t *testing.T) {
	s := troubled()
	long := strings.Repeat("very-long-account-name-", 8)
	s.Accounts = append(s.Accounts,
		poller.AccountSnapshot{Name: long, State: poller.StateError, New: 1, NewIDs: []string{"x"},
			Mails: []poller.Mail{{ID: "x", From: strings.Repeat("Sender ", 30), Subject: strings.Repeat("Subject ", 30)}},
			Err: &poller.CheckError{Kind: poller.KindAuth, Msg: strings.Repeat("refused ", 40),
				Err: &poller.ServerReply{Text: strings.Repeat("x", 300)}}},
		poller.AccountSnapshot{Name: long, State: poller.StateOK, Checked: now.Add(-400 * 24 * time.Hour)},
	)
	s.Total = 1234567
	m := View(s, ViewState{Now: now, Pause: true, PausedUntil: now.Add(40 * 24 * time.Hour), Autostart: true, MarkOnServer: true})
	var walk func([]Item)
	n := 0
	walk = func(items []Item) {
		for _, it := range items {
			n++
			if l := len([]rune(it.Label)); l > MaxLabel {
				t.Errorf("label of %d runes (> %d): %q", l, MaxLabel, it.Label)
			}
			walk(it.Children)
		}
	}
	walk(m.Items)
	if n < 50 {
		t.Fatalf("only %d items walked", n)
	}
}

func TestCutWords(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"Authentication failed for this user", 20, "Authentication…"},
		{"one two three four", 12, "one two…"},
		{"cut, at, commas here", 12, "cut, at…"},
		{"averyveryverylongword and more", 12, "averyveryve…"},
	}
	for _, tt := range tests {
		got := cutWords(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("cutWords(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if len([]rune(got)) > tt.n {
			t.Errorf("cutWords(%q, %d) has %d runes", tt.in, tt.n, len([]rune(got)))
		}
	}
}
