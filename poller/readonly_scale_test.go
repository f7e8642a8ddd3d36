package poller

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

// maildirState lists a Maildir's messages with their flags ("name:FS"),
// whichever of new/ and cur/ they are in.
func maildirState(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			name, info, _ := strings.Cut(e.Name(), ":")
			flags := []rune(strings.TrimPrefix(info, "2,"))
			slices.Sort(flags)
			out = append(out, name+":"+string(flags))
		}
	}
	slices.Sort(out)
	return out
}

// TestReadOnlyAtScale runs well over a thousand checks and IDLE sessions
// against one Dovecot mailbox over IMAPS, IMAP+STARTTLS, POP3S and
// POP3+STLS, concurrently, reusing connections where the checkers do and
// opening fresh ones regularly; afterwards every message, UID, GUID and flag
// is what it was (\Recent aside), and the Maildir holds the same files with
// the same flags.
func TestReadOnlyAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("a thousand checks")
	}
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	for i := range 30 {
		d.Deliver(t, user, testenv.Message(fmt.Sprintf("Sender %d <s%d@example.com>", i, i), fmt.Sprintf("=?UTF-8?Q?mail_n=C2=B0%d?=", i), "body"))
	}
	d.Doveadm(t, "flags", "add", "-u", user, `\Seen`, "mailbox", "INBOX", "uid", "1:12")
	d.Doveadm(t, "flags", "add", "-u", user, `\Flagged $Label1`, "mailbox", "INBOX", "uid", "8:20")
	d.Doveadm(t, "flags", "add", "-u", user, `\Answered`, "mailbox", "INBOX", "uid", "25")
	fetch := func() string {
		var b strings.Builder
		for line := range strings.Lines(d.Doveadm(t, "fetch", "-u", user, "uid flags guid", "mailbox", "INBOX", "all")) {
			f := slices.DeleteFunc(strings.Fields(line), func(s string) bool { return s == `\Recent` })
			b.WriteString(strings.Join(f, " ") + "\n")
		}
		return b.String()
	}
	before, filesBefore := fetch(), maildirState(t, d.Maildir(user))
	if strings.Count(before, "guid:") != 30 {
		t.Fatalf("doveadm fetch:\n%s", before)
	}

	var logs testenv.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := &Options{RootCAs: d.RootCAs, Timeout: 20 * time.Second, Logger: log,
		Password: func(context.Context) (string, error) { return pw, nil }}
	acct := func(proto accounts.Protocol, port int, sec accounts.Security) accounts.Account {
		return accounts.Account{Name: string(proto) + string(sec), Protocol: proto, Host: "127.0.0.1", Port: port,
			Security: sec, Username: user}.WithDefaults()
	}
	const perTransport = 400
	// No check starts after 60 s; the context is only the hard cap, so a
	// check still running then (on a loaded machine) ends normally rather
	// than as a failure.
	stopStarting := time.Now().Add(60 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var checks atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	run := func(a accounts.Account) {
		defer wg.Done()
		var c Checker
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for i := 0; i < perTransport && time.Now().Before(stopStarting); i++ {
			if i%40 == 0 { // a fresh checker: new connections, nothing cached
				if c != nil {
					c.Close()
				}
				c = NewPOP3(a, opts)
				if a.Protocol == accounts.IMAP {
					ck := NewIMAP(a, opts).(*imapChecker)
					ck.idleRestart = 5 * time.Millisecond // many IDLE commands per session
					c = ck
				}
			}
			q := Query{Want: wantAll}
			if i%7 == 3 { // a UIDVALIDITY "change": every unseen envelope is fetched
				q.Validity = map[string]uint32{"INBOX": 1}
			}
			if _, err := c.Check(ctx, q); err != nil {
				errs <- fmt.Errorf("%s check %d: %w", a.Name, i, err)
				return
			}
			checks.Add(1)
			if a.Protocol == accounts.IMAP && i%4 == 0 {
				if err := c.Wait(ctx, 20*time.Millisecond); err != nil {
					errs <- fmt.Errorf("%s wait %d: %w", a.Name, i, err)
					return
				}
			}
		}
	}
	start := time.Now()
	for _, a := range []accounts.Account{acct(accounts.IMAP, d.IMAPS, accounts.TLS), acct(accounts.IMAP, d.IMAP, accounts.StartTLS),
		acct(accounts.POP3, d.POP3S, accounts.TLS), acct(accounts.POP3, d.POP3, accounts.StartTLS)} {
		wg.Add(1)
		go run(a)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	idles := logs.Count("imap IDLE started")
	t.Logf("%d checks and %d IDLE commands (%d IMAP connections) in %s",
		checks.Load(), idles, logs.Count("imap connected"), time.Since(start).Round(time.Millisecond))
	if n := checks.Load() + int64(idles); n < 1000 {
		t.Errorf("only %d checks and IDLE sessions, want ≥ 1000", n)
	}
	if after := fetch(); after != before {
		t.Errorf("doveadm fetch 'uid flags guid' changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if filesAfter := maildirState(t, d.Maildir(user)); !slices.Equal(filesBefore, filesAfter) {
		t.Errorf("Maildir changed:\nbefore %q\nafter  %q", filesBefore, filesAfter)
	}
}
