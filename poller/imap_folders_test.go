package poller

import (
	"reflect"
	"testing"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
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
	}{
		{"default 3", 3, idle, []string{"INBOX", "Work"}, []string{"Lists", "Family"}},
		{"one: check only", 1, idle, []string{}, []string{"INBOX", "Work", "Lists", "Family"}},
		{"two", 2, idle, []string{"INBOX"}, []string{"Work", "Lists", "Family"}},
		{"room for all", 10, idle, []string{"INBOX", "Work", "Lists", "Family"}, []string{}},
		{"exactly all", 5, idle, []string{"INBOX", "Work", "Lists", "Family"}, []string{}},
		{"no IDLE", 10, imap.CapSet{imap.CapIMAP4rev1: {}}, []string{}, []string{"INBOX", "Work", "Lists", "Family"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck := NewIMAP(accounts.Account{Protocol: accounts.IMAP, MaxConnections: tc.max}, nil).(*imapChecker)
			ck.caps = tc.caps
			pushed, polled := ck.watch.plan(folders)
			if !reflect.DeepEqual(pushed, tc.pushed) || !reflect.DeepEqual(polled, tc.polled) {
				t.Errorf("plan = %q, %q; want %q, %q", pushed, polled, tc.pushed, tc.polled)
			}
			if len(pushed)+1 > max(tc.max, 1) {
				t.Errorf("%d IDLE connections and the check connection exceed max_connections %d", len(pushed), tc.max)
			}
		})
	}
}
