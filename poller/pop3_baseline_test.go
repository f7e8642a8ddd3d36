package poller

import (
	"fmt"
	"strings"
	"testing"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

// TestManagerPOP3BaselineSendsNoTop: the first check of a POP3 account takes
// the mail on the server as seen and shows none of it, so it fetches no
// header; mail that comes later is described (TOP) as before.
func TestManagerPOP3BaselineSendsNoTop(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	for i := range 3 {
		d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", fmt.Sprintf("old %d", i), "x"))
	}
	a := dovecotAccount(d, "pop", accounts.POP3, user)
	a.Port, a.Security = d.POP3, accounts.None // clear text, so that the recorder reads the commands
	rec := &imapRecorder{}
	opts := func(acc accounts.Account) *Options {
		o := dovecotOptions(d, pw)(acc)
		o.Dial = rec.dial
		return o
	}
	tops := func() int {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for line := range strings.Lines(rec.written.String()) {
			if strings.HasPrefix(strings.ToUpper(line), "TOP ") {
				n++
			}
		}
		return n
	}
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()), CheckerOptions: opts})
	waitSnap(t, sub, "the baseline", newCount("pop", 0))
	if n := tops(); n != 0 {
		t.Errorf("the baseline check sent %d TOP commands, want none", n)
	}
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "new", "x"))
	if err := m.CheckNow("pop"); err != nil {
		t.Fatal(err)
	}
	s := waitSnap(t, sub, "the new mail", newCount("pop", 1)).Accounts[0]
	if len(s.Mails) != 1 || s.Mails[0].Subject != "new" {
		t.Errorf("mails %+v, want the new one described", s.Mails)
	}
	if n := tops(); n != 1 {
		t.Errorf("%d TOP commands after one new mail, want 1", n)
	}
	stop()
}
