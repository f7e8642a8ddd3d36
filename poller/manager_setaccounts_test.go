package poller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/seen"
)

// checkedSince waits for a snapshot in which each account named has
// finished a check that began after since, and returns it. Every snapshot
// on the way must hold exactly want accounts.
func checkedSince(t *testing.T, sub <-chan Snapshot, since time.Time, want int, names ...string) Snapshot {
	t.Helper()
	return waitSnap(t, sub, strings.Join(names, ", ")+" checked after the change", func(s Snapshot) bool {
		if len(s.Accounts) != want {
			t.Fatalf("a snapshot with %d accounts, want %d: %s", len(s.Accounts), want, describe(s))
		}
		for _, name := range names {
			if a, ok := s.account(name); !ok || a.State != StateOK || !a.Checked.After(since) {
				return false
			}
		}
		return true
	})
}

// TestSetAccountsEditKeepsDismissed: an account with dismissed mail is
// edited twenty times (its poll interval, and every second edit its name), as
// the setup page and the config watcher do, against Dovecot with the real
// manager. It is always there, under its new name, and its dismissed mail
// never comes back as new, while the mail it did not dismiss stays new.
func TestSetAccountsEditKeepsDismissed(t *testing.T) {
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	a := dovecotAccount(d, "work", accounts.IMAP, user)
	dir := t.TempDir()
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, dir),
		CheckerOptions: dovecotOptions(d, pw)})
	waitSnap(t, sub, "first check", newCount("work", 0))
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "one", "x"))
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "two", "x"))
	shown := waitSnap(t, sub, "2 new", newCount("work", 2))
	if n, err := m.MarkRead(context.Background(), shown, ""); err != nil || n != 2 {
		t.Fatalf("MarkRead = %d, %v; want 2", n, err)
	}
	d.Deliver(t, user, testenv.Message("Cy <cy@example.com>", "three", "x"))
	waitSnap(t, sub, "the third mail new", newCount("work", 1))

	ctx := context.Background()
	for i := range 20 {
		edit := a
		edit.PollInterval = time.Hour + time.Duration(i+1)*time.Minute
		if (i/2)%2 == 1 {
			edit.Name = "job" // the same mailbox under another name
		}
		since := time.Now()
		if err := m.SetAccounts(ctx, []accounts.Account{edit}); err != nil {
			t.Fatalf("edit %d: SetAccounts: %v", i, err)
		}
		got, _ := checkedSince(t, sub, since, 1, edit.Name).account(edit.Name)
		if got.New != 1 || len(got.Mails) != 1 || got.Mails[0].Subject != "three" {
			t.Fatalf("edit %d (%s): new %d, mails %+v; want only three", i, edit.Name, got.New, got.Mails)
		}
	}
	stop()
	// The last edit (i = 19) kept the name "job": the seen set moved there.
	store := mustOpenStore(t, dir)
	if n := len(store.Account("job").IDs); n != 2 {
		t.Errorf("job's seen set holds %d mails, want the 2 dismissed", n)
	}
	if names := store.Accounts(); len(names) != 1 || names[0] != "job" {
		t.Errorf("the store holds accounts %v, want only job", names)
	}
}

// account returns the snapshot of the account name.
func (s Snapshot) account(name string) (AccountSnapshot, bool) {
	for _, a := range s.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return AccountSnapshot{}, false
}

// listChecker finds the same mails on every check and waits for nothing.
type listChecker struct{ ids []string }

func (c listChecker) Check(ctx context.Context, q Query) (*Inbox, error) {
	return &Inbox{IDs: c.ids, Unread: len(c.ids)}, nil
}

func (c listChecker) Wait(ctx context.Context, d time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (c listChecker) Close() error { return nil }

// TestSetAccountsDiff: each account keeps the seen set of its identity
// (protocol, host, port, username) across swaps and renames, loses it when
// the identity changes or it is removed, and an account whose settings did
// not change is not restarted.
func TestSetAccountsDiff(t *testing.T) {
	dir := t.TempDir()
	store := mustOpenStore(t, dir)
	// On every server the mails x and y are unread; a dismissed x, b both.
	store.Update("a", func(s *seen.Account) { s.Baselined, s.IDs = true, map[string]string{"x": ""} })
	store.Update("b", func(s *seen.Account) { s.Baselined, s.IDs = true, map[string]string{"x": "", "y": ""} })
	if err := store.Save(); err != nil {
		t.Fatal(err)
	}
	acct := func(name, host string) accounts.Account {
		return accounts.Account{Name: name, Protocol: accounts.IMAP, Host: host, Username: "u", PollInterval: time.Hour}.WithDefaults()
	}
	var mu sync.Mutex
	made := 0
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{acct("a", "ha"), acct("b", "hb")}, Store: store,
		NewChecker: func(accounts.Account) Checker {
			mu.Lock()
			defer mu.Unlock()
			made++
			return listChecker{ids: []string{"x", "y"}}
		}})
	waitSnap(t, sub, "a 1 new, b 0 new", func(s Snapshot) bool { return newCount("a", 1)(s) && newCount("b", 0)(s) })
	ctx := context.Background()
	set := func(step string, accts ...accounts.Account) time.Time {
		t.Helper()
		since := time.Now()
		if err := m.SetAccounts(ctx, accts); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return since
	}
	// expect checks the new counts once every account named is checked.
	expect := func(step string, since time.Time, accts int, newMails map[string]int) Snapshot {
		t.Helper()
		var names []string
		for name := range newMails {
			names = append(names, name)
		}
		s := checkedSince(t, sub, since, accts, names...)
		for name, n := range newMails {
			if a, _ := s.account(name); a.New != n {
				t.Errorf("%s: %s has %d new, want %d", step, name, a.New, n)
			}
		}
		return s
	}

	since := set("swap", acct("b", "ha"), acct("a", "hb"))
	if s := expect("swap", since, 2, map[string]int{"a": 0, "b": 1}); s.Accounts[0].Name != "b" {
		t.Errorf("order after the swap: %s; want b first", describe(s))
	}

	since = set("rename b to c", acct("a", "hb"), acct("c", "ha"))
	expect("rename", since, 2, map[string]int{"c": 1})

	since = set("c to another server", acct("a", "hb"), acct("c", "hc"))
	expect("identity change", since, 2, map[string]int{"c": 2})

	mu.Lock()
	before := made
	mu.Unlock()
	set("unchanged", acct("a", "hb"), acct("c", "hc"))
	mu.Lock()
	after := made
	mu.Unlock()
	if after != before {
		t.Errorf("an unchanged list restarted %d accounts", after-before)
	}

	set("remove a", acct("c", "hc"))
	since = set("add a back", acct("c", "hc"), acct("a", "hb"))
	expect("removed and added", since, 2, map[string]int{"a": 2})
	stop()

	store = mustOpenStore(t, dir)
	var got []string
	for _, name := range store.Accounts() {
		got = append(got, fmt.Sprintf("%s:%d", name, len(store.Account(name).IDs)))
	}
	// a and c were checked fresh and dismissed nothing; b is gone.
	if g := strings.Join(got, " "); g != "a:0 c:0" {
		t.Errorf("store after the edits: %s; want a:0 c:0", g)
	}
}

// handoverChecker is one of two generations of an account's checker: the
// first one's Close takes a while (a LOGOUT to a slow server), and the
// second notes whether its first Check came before that Close ended.
type handoverChecker struct {
	gen     int
	closing chan struct{} // closed when the first generation's Close begins
	closed  chan struct{} // closed when it has ended
	checked chan struct{} // closed at the second generation's first Check
	early   *bool         // the second checked while the first was still open
	once    sync.Once
}

func (c *handoverChecker) Check(ctx context.Context, q Query) (*Inbox, error) {
	if c.gen == 2 {
		c.once.Do(func() {
			select {
			case <-c.closed:
			default:
				*c.early = true
			}
			close(c.checked)
		})
	}
	return &Inbox{Mails: map[string]Mail{}}, nil
}

func (c *handoverChecker) Wait(ctx context.Context, d time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

func (c *handoverChecker) Close() error {
	if c.gen == 1 {
		c.once.Do(func() {
			close(c.closing)
			// Long enough for a second generation that does not wait to
			// check meanwhile; it ends at once if it does.
			select {
			case <-c.checked:
			case <-time.After(time.Second):
			}
			close(c.closed)
		})
	}
	return nil
}

// TestSetAccountsRestartWaitsForOldConnections: an edited account's new
// checker connects only after the old one has closed its connections, so
// that the two never hold more than max_connections together.
func TestSetAccountsRestartWaitsForOldConnections(t *testing.T) {
	closing, closed, checked := make(chan struct{}), make(chan struct{}), make(chan struct{})
	early := false
	var mu sync.Mutex
	made := 0
	a := accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: "h", Username: "u", PollInterval: time.Hour}.WithDefaults()
	m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker {
			mu.Lock()
			defer mu.Unlock()
			made++
			return &handoverChecker{gen: made, closing: closing, closed: closed, checked: checked, early: &early}
		}})
	waitSnap(t, sub, "first check", newCount("work", 0))
	edit := a
	edit.PollInterval = 2 * time.Hour
	if err := m.SetAccounts(context.Background(), []accounts.Account{edit}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan struct{}{closing, closed, checked} {
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			t.Fatal("the account was not restarted")
		}
	}
	if early {
		t.Error("the restarted account checked while the old checker was still closing its connections")
	}
	stop()
}
