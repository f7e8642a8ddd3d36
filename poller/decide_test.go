package poller

import (
	"reflect"
	"sort"
	"testing"

	"mailsneaker/accounts"
	"mailsneaker/seen"
)

func TestDecide(t *testing.T) {
	pop := accounts.Account{Name: "p", Protocol: accounts.POP3}
	popCount := pop
	popCount.CountExisting = true
	imap := accounts.Account{Name: "i", Protocol: accounts.IMAP}
	ids := func(s ...string) []string { return s }
	set := func(s ...string) map[string]string {
		m := map[string]string{}
		for _, id := range s {
			m[id] = ""
		}
		return m
	}
	tests := []struct {
		name    string
		acct    accounts.Account
		seen    seen.Account
		lost    bool
		in      Inbox
		wantNew []string
		wantAdd []string
		wantRm  []string
		notice  bool
	}{
		{name: "pop3 first check is the baseline", acct: pop,
			in: Inbox{IDs: ids("a", "b")}, wantAdd: ids("a", "b")},
		{name: "pop3 count_existing counts the first check", acct: popCount,
			in: Inbox{IDs: ids("a", "b")}, wantNew: ids("a", "b")},
		{name: "pop3 new is not in the seen set; gone ones are pruned", acct: pop,
			seen: seen.Account{Baselined: true, IDs: set("a", "b")},
			in:   Inbox{IDs: ids("b", "c")}, wantNew: ids("c"), wantRm: ids("a")},
		{name: "pop3 old mail deleted and a few new ones is no migration", acct: pop,
			seen: seen.Account{Baselined: true, IDs: set("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")},
			in:   Inbox{IDs: ids("x", "y")}, wantNew: ids("x", "y"),
			wantRm: ids("1", "10", "2", "3", "4", "5", "6", "7", "8", "9")},
		{name: "pop3 every uidl replaced is a migration: no flood", acct: pop,
			seen:    seen.Account{Baselined: true, IDs: set("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")},
			in:      Inbox{IDs: ids("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")},
			wantAdd: ids("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"),
			wantRm:  ids("1", "10", "2", "3", "4", "5", "6", "7", "8", "9"), notice: true},
		{name: "pop3 lost state re-baselines even with count_existing", acct: popCount, lost: true,
			in: Inbox{IDs: ids("a")}, wantAdd: ids("a"), notice: true},
		{name: "imap first check counts unread", acct: imap,
			in: Inbox{IDs: ids("INBOX/7/1", "INBOX/7/2")}, wantNew: ids("INBOX/7/1", "INBOX/7/2")},
		{name: "imap dismissed mail is not new; read ones are pruned", acct: imap,
			seen: seen.Account{Baselined: true, IDs: set("INBOX/7/1", "INBOX/7/2")},
			in:   Inbox{IDs: ids("INBOX/7/2", "INBOX/7/3")}, wantNew: ids("INBOX/7/3"), wantRm: ids("INBOX/7/1")},
		{name: "imap lost state dismisses what is unread", acct: imap, lost: true,
			in: Inbox{IDs: ids("INBOX/7/1")}, wantAdd: ids("INBOX/7/1"), notice: true},
		{name: "imap uidvalidity change carries dismissals by message-id", acct: imap,
			seen: seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "<a@x>", "INBOX/7/2": "<b@x>"}},
			in: Inbox{IDs: ids("INBOX/9/10", "INBOX/9/11", "INBOX/9/12"), Reset: []string{"INBOX"},
				Mails: map[string]Mail{"INBOX/9/10": {MessageID: "<a@x>"}, "INBOX/9/11": {MessageID: "<b@x>"}, "INBOX/9/12": {MessageID: "<c@x>"}}},
			wantNew: ids("INBOX/9/12"), wantAdd: ids("INBOX/9/10", "INBOX/9/11"), wantRm: ids("INBOX/7/1", "INBOX/7/2")},
		{name: "imap uidvalidity change without message-ids re-baselines the folder", acct: imap,
			seen:    seen.Account{Baselined: true, IDs: set("INBOX/7/1", "Other/3/1")},
			in:      Inbox{IDs: ids("INBOX/9/10", "INBOX/9/11", "Other/3/1", "Other/3/2"), Reset: []string{"INBOX"}},
			wantNew: ids("Other/3/2"), wantAdd: ids("INBOX/9/10", "INBOX/9/11"), wantRm: ids("INBOX/7/1"), notice: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.seen.IDs == nil {
				tt.seen.IDs = map[string]string{}
			}
			d := decide(tt.acct, &tt.seen, tt.lost, &tt.in)
			var add []string
			for id := range d.add {
				add = append(add, id)
			}
			sort.Strings(add)
			if !reflect.DeepEqual(d.newIDs, tt.wantNew) {
				t.Errorf("new = %q, want %q", d.newIDs, tt.wantNew)
			}
			if !reflect.DeepEqual(add, tt.wantAdd) {
				t.Errorf("add = %q, want %q", add, tt.wantAdd)
			}
			if !reflect.DeepEqual(d.remove, tt.wantRm) {
				t.Errorf("remove = %q, want %q", d.remove, tt.wantRm)
			}
			if (d.notice != "") != tt.notice {
				t.Errorf("notice = %q, want one: %v", d.notice, tt.notice)
			}
			if !d.baselined {
				t.Error("not baselined after a check")
			}
		})
	}
}
