package poller

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

func TestIMAPExpandFolders(t *testing.T) {
	l := func(name string, attrs ...imap.MailboxAttr) imapListed {
		return imapListed{name: name, delim: '/', attrs: attrs}
	}
	gmail := []imapListed{
		l("INBOX", imap.MailboxAttrHasNoChildren),
		l("[Gmail]", imap.MailboxAttrNoSelect, imap.MailboxAttrHasChildren),
		l("[Gmail]/All Mail", imap.MailboxAttrAll),
		l("[Gmail]/Drafts", imap.MailboxAttrDrafts),
		l("[Gmail]/Important", imap.MailboxAttrImportant),
		l("[Gmail]/Sent Mail", imap.MailboxAttrSent),
		l("[Gmail]/Spam", imap.MailboxAttrJunk),
		l("[Gmail]/Starred", imap.MailboxAttrFlagged),
		l("[Gmail]/Trash", imap.MailboxAttrTrash),
		l("Receipts"),
		l("Lists/go-nuts"),
	}
	// A server that marks nothing: the names tell.
	plain := []imapListed{
		l("INBOX"), l("Archive"), l("Deleted Items"), l("Drafts"), l("Junk"), l("Sent"),
		l("Spam"), l("Trash"), l("Work"), l("Work/Sent"), l("Lists", imap.MailboxAttrNoSelect), l("Lists/a"),
		l("Gone", imap.MailboxAttrNonExistent),
	}
	// A server that marks some: names are not guessed at ("Spam" is
	// somebody's folder about spam).
	marked := []imapListed{l("INBOX"), l("Junk", imap.MailboxAttrJunk), l("Spam"), l("Archive", imap.MailboxAttrArchive)}
	for _, tc := range []struct {
		name   string
		conf   []string
		listed []imapListed
		want   []string
	}{
		{"gmail", []string{"*"}, gmail, []string{"INBOX", "Lists/go-nuts", "Receipts"}},
		{"by name", []string{"*"}, plain, []string{"INBOX", "Archive", "Lists/a", "Work"}},
		{"marked", []string{"*"}, marked, []string{"INBOX", "Archive", "Spam"}},
		{"named first", []string{"Work", "*"}, plain, []string{"Work", "INBOX", "Archive", "Lists/a"}},
		{"named special stays", []string{"INBOX", "Junk", "*"}, plain, []string{"INBOX", "Junk", "Archive", "Lists/a", "Work"}},
		{"star last, inbox as written", []string{"inbox", "*"}, marked, []string{"inbox", "Archive", "Spam"}},
		{"no star", []string{"INBOX", "Work"}, plain, []string{"INBOX", "Work"}},
		{"empty list", []string{"*"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := imapExpand(tc.conf, tc.listed); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("imapExpand(%q) = %q, want %q", tc.conf, got, tc.want)
			}
		})
	}
}

func TestIMAPPlanWithinBudget(t *testing.T) {
	idle := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}}
	folders := []string{"Work", "Lists", "INBOX", "Family"}
	for _, tc := range []struct {
		name           string
		max            int
		caps           imap.CapSet
		pushed, polled []string
		folders        []string // nil: Work, Lists, INBOX, Family
	}{
		{"default 3", 3, idle, []string{"INBOX", "Work"}, []string{"Lists", "Family"}, nil},
		{"one: check only", 1, idle, []string{}, []string{"INBOX", "Work", "Lists", "Family"}, nil},
		{"two", 2, idle, []string{"INBOX"}, []string{"Work", "Lists", "Family"}, nil},
		{"room for all", 10, idle, []string{"INBOX", "Work", "Lists", "Family"}, []string{}, nil},
		{"exactly all", 5, idle, []string{"INBOX", "Work", "Lists", "Family"}, []string{}, nil},
		{"inbox as written", 2, idle, []string{"inbox"}, []string{"Work"}, []string{"Work", "inbox"}},
		{"no IDLE", 10, imap.CapSet{imap.CapIMAP4rev1: {}}, []string{}, []string{"INBOX", "Work", "Lists", "Family"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck := NewIMAP(accounts.Account{Protocol: accounts.IMAP, MaxConnections: tc.max}, nil).(*imapChecker)
			ck.caps = tc.caps
			fs := folders
			if tc.folders != nil {
				fs = tc.folders
			}
			pushed, polled := ck.watch.plan(fs)
			if !reflect.DeepEqual(pushed, tc.pushed) || !reflect.DeepEqual(polled, tc.polled) {
				t.Errorf("plan = %q, %q; want %q, %q", pushed, polled, tc.pushed, tc.polled)
			}
			if len(pushed)+1 > max(tc.max, 1) {
				t.Errorf("%d IDLE connections and the check connection exceed max_connections %d", len(pushed), tc.max)
			}
		})
	}
}

// TestIMAPFolderPoll: with room for one IDLE connection (max_connections
// 2), INBOX is pushed and the other folders are polled on the check
// connection: STATUS for exactly those, pipelined, or one LIST RETURN
// (STATUS) where the server has LIST-STATUS. A new mail in a polled folder
// ends Wait; so does a folder created when folders = ["*"].
func TestIMAPFolderPoll(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		caps []imap.Cap
		star bool
	}{
		{"STATUS", nil, false},
		{"star STATUS", nil, true},
		{"star LIST-STATUS", []imap.Cap{imap.CapListStatus}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startIMAPMem(t, tc.caps...)
			for _, f := range []string{"A", "B", "C"} {
				if err := m.user.Create(f, nil); err != nil {
					t.Fatal(err)
				}
			}
			a := m.account()
			a.Folders = []string{"INBOX", "A", "B", "C"}
			if tc.star {
				a.Folders = []string{accounts.AllFolders}
			}
			a.MaxConnections = 2
			a.FolderPollInterval = 20 * time.Millisecond
			rec := &imapRecorder{}
			ck := NewIMAP(a, imapOptions(rec, "secret")).(*imapChecker)
			defer ck.Close()
			in := mustCheck(t, ck, Query{})
			if !reflect.DeepEqual(in.Pushed, []string{"INBOX"}) || !reflect.DeepEqual(in.Polled, []string{"A", "B", "C"}) {
				t.Fatalf("pushed %q, polled %q; want INBOX; A, B, C", in.Pushed, in.Polled)
			}

			wait := func(what string, change func()) string {
				t.Helper()
				rec.reset()
				errc := make(chan error, 1)
				go func() { errc <- ck.Wait(context.Background(), time.Hour) }()
				// Two polls that find nothing, then the change.
				if tc.star && len(tc.caps) > 0 {
					waitFor(t, "two folder polls", func() bool { return rec.count("LIST") >= 2 })
				} else {
					waitFor(t, "two folder polls", func() bool { return rec.count("STATUS") >= 6 })
				}
				select {
				case err := <-errc:
					t.Fatalf("Wait returned %v before anything changed", err)
				default:
				}
				change()
				select {
				case err := <-errc:
					if err != nil {
						t.Fatalf("Wait: %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("Wait did not return within 10 s of %s", what)
				}
				rec.mu.Lock()
				defer rec.mu.Unlock()
				return rec.written.String()
			}
			polls := wait("a new mail in C", func() { m.add(t, "C", testenv.Message("a@example.com", "one", "x")) })
			statuses, lists := strings.Count(polls, " STATUS "), strings.Count(polls, " LIST ")
			if in := mustCheck(t, ck, Query{}); in.Unread != 1 {
				t.Fatalf("unread %d, want 1", in.Unread)
			}
			// Every poll asked about the polled folders only.
			if strings.Contains(polls, "STATUS INBOX") {
				t.Errorf("a folder poll asked about the pushed INBOX:\n%s", polls)
			}
			switch {
			case tc.star && len(tc.caps) > 0:
				if statuses != 0 || lists < 2 || !strings.Contains(polls, "RETURN (STATUS") {
					t.Errorf("%d STATUS and %d LIST commands; want LIST RETURN (STATUS ...) alone:\n%s", statuses, lists, polls)
				}
			case statuses < 6 || statuses%3 != 0:
				t.Errorf("%d STATUS commands; want 3 per poll:\n%s", statuses, polls)
			}
			if !tc.star {
				return
			}
			wait("a new folder", func() {
				if err := m.user.Create("D", nil); err != nil {
					t.Fatal(err)
				}
			})
			if in := mustCheck(t, ck, Query{}); !reflect.DeepEqual(in.Polled, []string{"A", "B", "C", "D"}) {
				t.Fatalf("polled %q after D was created", in.Polled)
			}
		})
	}
}

func TestIMAPFoldersMarksSpecial(t *testing.T) {
	l := func(name string, attrs ...imap.MailboxAttr) imapListed {
		return imapListed{name: name, delim: '/', attrs: attrs}
	}
	got := imapFolders([]imapListed{
		l("Work"), l("[Gmail]", imap.MailboxAttrNoSelect), l("[Gmail]/All Mail", imap.MailboxAttrAll),
		l("inbox"), l("Spam"), l("Work"),
	})
	want := []Folder{{Name: "INBOX"}, {Name: "Spam"}, {Name: "Work"}, {Name: "[Gmail]/All Mail", Special: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("imapFolders = %+v, want %+v", got, want)
	}
}

// TestIMAPListFolderInfoDovecot: against Dovecot, which marks no folder
// SPECIAL-USE unless configured, the special folders are told by name.
func TestIMAPListFolderInfoDovecot(t *testing.T) {
	t.Parallel()
	x := newIMAPDovecot(t)
	for _, f := range []string{"Junk", "Work", "Sent Items"} {
		x.d.Doveadm(t, "mailbox", "create", "-u", x.user, f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := ListFolderInfo(ctx, x.account(accounts.TLS), x.options(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []Folder{{Name: "INBOX"}, {Name: "Junk", Special: true}, {Name: "Sent Items", Special: true}, {Name: "Work"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListFolderInfo = %+v, want %+v", got, want)
	}
	names, err := ListFolders(ctx, x.account(accounts.TLS), x.options(nil))
	if err != nil || !reflect.DeepEqual(names, []string{"INBOX", "Junk", "Sent Items", "Work"}) {
		t.Errorf("ListFolders = %q, %v", names, err)
	}
}

// TestIMAPListFolderInfoCapsFolders: a server that lists more than
// maxListedFolders folders yields the first maxListedFolders of them, and
// the rest of its reply is read away, not taken for an error.
func TestIMAPListFolderInfoCapsFolders(t *testing.T) {
	const sent = maxListedFolders + 500
	addr := imapFakeServer(t, hostileIMAP(say(imapHello), func(w io.Writer, tag, line string) {
		if !strings.Contains(strings.ToUpper(line), " LIST ") {
			io.WriteString(w, tag+" BAD unexpected\r\n")
			return
		}
		var b strings.Builder
		for i := range sent {
			fmt.Fprintf(&b, "* LIST () \"/\" f%05d\r\n", i)
		}
		io.WriteString(w, b.String()+tag+" OK listed\r\n")
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := ListFolderInfo(ctx, imapFakeAccount(addr, accounts.None), &Options{Password: func(context.Context) (string, error) { return "pw", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != maxListedFolders {
		t.Fatalf("%d folders of the %d listed, want the first %d", len(got), sent, maxListedFolders)
	}
	if first, last := got[0].Name, got[len(got)-1].Name; first != "f00000" || last != fmt.Sprintf("f%05d", maxListedFolders-1) {
		t.Errorf("folders %s … %s, want f00000 … f%05d", first, last, maxListedFolders-1)
	}
}
