package poller

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

// TestMarkSeenOnServerChangesOnlyThoseMails: the explicit action flags
// exactly the mails shown, and nothing else anywhere in the mailbox.
func TestMarkSeenOnServerChangesOnlyThoseMails(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	for _, s := range []string{"one", "two", "three", "four"} {
		d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", s, "x"))
	}
	a := accounts.Account{Name: "w", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: d.IMAPS,
		Security: accounts.TLS, Username: user}.WithDefaults()
	o := &Options{RootCAs: d.RootCAs, Password: func(context.Context) (string, error) { return pw, nil }}
	in, err := Verify(context.Background(), a, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.IDs) != 4 {
		t.Fatalf("unseen ids %q, want 4", in.IDs)
	}
	_, validity, _, _ := ParseIMAPID(in.IDs[0])
	flags := func() map[string]string {
		out := d.Doveadm(t, "fetch", "-u", user, "uid flags", "mailbox", "INBOX", "all")
		m := map[string]string{}
		for _, rec := range regexp.MustCompile(`uid: (\d+)\nflags: ?([^\n]*)`).FindAllStringSubmatch(out, -1) {
			m[rec[1]] = strings.TrimSpace(strings.ReplaceAll(rec[2], `\Recent`, ""))
		}
		return m
	}
	before := flags()

	ids := []string{imapID("INBOX", validity, imap.UID(1)), imapID("INBOX", validity, imap.UID(3)),
		imapID("INBOX", validity+1, imap.UID(2))} // a stale UIDVALIDITY: must be left alone
	n, err := MarkSeenOnServer(context.Background(), a, o, ids)
	if err != nil || n != 2 {
		t.Fatalf("MarkSeenOnServer = %d, %v; want 2", n, err)
	}
	after := flags()
	for uid, f := range after {
		want := before[uid]
		if uid == "1" || uid == "3" {
			want = strings.TrimSpace(want + ` \Seen`)
		}
		if f != want {
			t.Errorf("uid %s flags %q, want %q (before %q)", uid, f, want, before[uid])
		}
	}
	if len(after) != 4 {
		t.Errorf("mailbox has %d mails after, want 4", len(after))
	}
}
