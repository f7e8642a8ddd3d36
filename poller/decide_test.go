package poller

import (
	"reflect"
	"slices"
	"sort"
	"strings"
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
		shown   map[string]Mail // described before this check
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
		{name: "imap uidvalidity change carries dismissals without message-id by digest", acct: imap,
			seen: seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "d:aa", "INBOX/7/2": "<b@x>"}},
			in: Inbox{IDs: ids("INBOX/9/10", "INBOX/9/11", "INBOX/9/12"), Reset: []string{"INBOX"},
				Mails: map[string]Mail{"INBOX/9/10": {Digest: "d:aa"}, "INBOX/9/11": {MessageID: "<b@x>"}, "INBOX/9/12": {Digest: "d:cc"}}},
			wantNew: ids("INBOX/9/12"), wantAdd: ids("INBOX/9/10", "INBOX/9/11"), wantRm: ids("INBOX/7/1", "INBOX/7/2")},
		{name: "imap uids renumbered without a uidvalidity change: the dismissal follows the mail", acct: imap,
			seen: seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "<a@x>", "INBOX/7/2": "d:bb"}},
			in: Inbox{IDs: ids("INBOX/7/5", "INBOX/7/6", "INBOX/7/7"),
				Mails: map[string]Mail{"INBOX/7/5": {MessageID: "<a@x>"}, "INBOX/7/6": {Digest: "d:bb"}, "INBOX/7/7": {MessageID: "<c@x>"}}},
			wantNew: ids("INBOX/7/7"), wantAdd: ids("INBOX/7/5", "INBOX/7/6"), wantRm: ids("INBOX/7/1", "INBOX/7/2")},
		{name: "imap renumbered mail already shown follows by its described envelope", acct: imap,
			seen:    seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "<a@x>"}},
			in:      Inbox{IDs: ids("INBOX/7/5")},
			shown:   map[string]Mail{"INBOX/7/5": {MessageID: "<a@x>"}},
			wantAdd: ids("INBOX/7/5"), wantRm: ids("INBOX/7/1")},
		{name: "imap one dismissal follows one mail: a second copy is new", acct: imap,
			seen: seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "<a@x>"}},
			in: Inbox{IDs: ids("INBOX/7/6", "INBOX/7/5"),
				Mails: map[string]Mail{"INBOX/7/5": {MessageID: "<a@x>"}, "INBOX/7/6": {MessageID: "<a@x>"}}},
			wantNew: ids("INBOX/7/5"), wantAdd: ids("INBOX/7/6"), wantRm: ids("INBOX/7/1")},
		{name: "imap a dismissal does not follow into another folder", acct: imap,
			seen:    seen.Account{Baselined: true, IDs: map[string]string{"A/7/1": "<a@x>"}},
			in:      Inbox{IDs: ids("B/3/1"), Mails: map[string]Mail{"B/3/1": {MessageID: "<a@x>"}}},
			wantNew: ids("B/3/1"), wantRm: ids("A/7/1")},
		{name: "imap mail read elsewhere and other mail arrived: nothing follows", acct: imap,
			seen:    seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "<a@x>", "INBOX/7/2": ""}},
			in:      Inbox{IDs: ids("INBOX/7/3"), Mails: map[string]Mail{"INBOX/7/3": {Digest: "d:cc"}}},
			wantNew: ids("INBOX/7/3"), wantRm: ids("INBOX/7/1", "INBOX/7/2")},
		{name: "imap a dismissal without a key is keyed once its envelope is fetched", acct: imap,
			seen:    seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "", "INBOX/7/2": ""}},
			in:      Inbox{IDs: ids("INBOX/7/1", "INBOX/7/2"), Mails: map[string]Mail{"INBOX/7/1": {Digest: "d:aa"}}},
			wantAdd: ids("INBOX/7/1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.seen.IDs == nil {
				tt.seen.IDs = map[string]string{}
			}
			d := decide(tt.acct, &tt.seen, tt.lost, &tt.in, tt.shown)
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
			for id, key := range d.add {
				if m, ok := tt.in.Mails[id]; ok && tt.acct.Protocol == accounts.IMAP && key != dismissKey(m) {
					t.Errorf("add[%s] = %q, want its key %q", id, key, dismissKey(m))
				}
			}
		})
	}
}

// TestDecideRebaselineThenNewMailCounts follows a folder on a server that
// changes UIDVALIDITY at every session (GNU Mailutils) through three
// checks: a dismissal without a key re-baselines the folder once, loudly;
// the mails it dismissed are keyed, so at the next change they stay
// dismissed while mail that arrived meanwhile counts.
func TestDecideRebaselineThenNewMailCounts(t *testing.T) {
	a := accounts.Account{Name: "mu", Protocol: accounts.IMAP}
	known := &seen.Account{Baselined: true, IDs: map[string]string{"INBOX/100/1": ""}}
	apply := func(d decision) {
		for _, id := range d.remove {
			delete(known.IDs, id)
		}
		for id, k := range d.add {
			known.IDs[id] = k
		}
	}
	// Session 2: UIDVALIDITY 200; the old dismissal cannot be matched.
	in := &Inbox{IDs: []string{"INBOX/200/2", "INBOX/200/1"}, Reset: []string{"INBOX"},
		Mails: map[string]Mail{"INBOX/200/1": {Digest: "d:old"}, "INBOX/200/2": {MessageID: "<old2@x>"}}}
	d := decide(a, known, false, in, nil)
	if len(d.newIDs) != 0 || len(d.add) != 2 {
		t.Fatalf("re-baseline: new %q, add %v", d.newIDs, d.add)
	}
	if !strings.Contains(d.notice, "INBOX (2)") || !strings.Contains(d.notice, "UIDVALIDITY") {
		t.Errorf("re-baseline notice = %q, want it to name INBOX (2) and UIDVALIDITY", d.notice)
	}
	apply(d)
	// Session 3: UIDVALIDITY 300; one new mail without a Message-ID arrived.
	in = &Inbox{IDs: []string{"INBOX/300/3", "INBOX/300/2", "INBOX/300/1"}, Reset: []string{"INBOX"},
		Mails: map[string]Mail{"INBOX/300/1": {Digest: "d:old"}, "INBOX/300/2": {MessageID: "<old2@x>"}, "INBOX/300/3": {Digest: "d:new"}}}
	d = decide(a, known, false, in, nil)
	if !reflect.DeepEqual(d.newIDs, []string{"INBOX/300/3"}) {
		t.Errorf("after the re-baseline: new = %q, want the mail that arrived since", d.newIDs)
	}
	if d.notice != "" {
		t.Errorf("second change re-baselined again: %q", d.notice)
	}
	if !strings.Contains(d.log, "INBOX (2)") {
		t.Errorf("log = %q, want the 2 followed dismissals named", d.log)
	}
}

// TestDecideRenumberedBeyondTheFetchedEnvelopes: the server renumbered a
// folder (GNU Mailutils, mail in new/) and only the newest envelopes were
// fetched. A dismissal that found no mail is kept, the mail without an
// envelope is not called new, and a check that describes the whole folder
// is asked for at once; that check settles it. A folder renumbered under
// the same UIDVALIDITY is described whole from then on.
func TestDecideRenumberedBeyondTheFetchedEnvelopes(t *testing.T) {
	a := accounts.Account{Name: "mu", Protocol: accounts.IMAP}
	known := &seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "<a@x>", "INBOX/7/2": "<b@x>"}}
	in := &Inbox{IDs: []string{"INBOX/7/9", "INBOX/7/8"}, Mails: map[string]Mail{"INBOX/7/9": {MessageID: "<a@x>"}}}
	d := decide(a, known, false, in, nil)
	if len(d.newIDs) != 0 || len(d.remove) != 0 || d.add["INBOX/7/9"] != "<a@x>" || len(d.add) != 1 {
		t.Errorf("held: new %q, remove %q, add %v; want nothing new, nothing pruned, 7/9 followed", d.newIDs, d.remove, d.add)
	}
	if !d.again || !slices.Equal(d.describe, []string{"INBOX"}) {
		t.Errorf("again %v, describe %q; want a whole-folder check of INBOX at once", d.again, d.describe)
	}
	known.IDs["INBOX/7/9"] = "<a@x>"
	// The whole-folder check, renumbered again.
	in = &Inbox{IDs: []string{"INBOX/7/12", "INBOX/7/11", "INBOX/7/10"}, Described: []string{"INBOX"},
		Mails: map[string]Mail{"INBOX/7/12": {Digest: "d:new"}, "INBOX/7/11": {MessageID: "<a@x>"}, "INBOX/7/10": {MessageID: "<b@x>"}}}
	d = decide(a, known, false, in, nil)
	if !slices.Equal(d.newIDs, []string{"INBOX/7/12"}) || len(d.add) != 2 || d.again {
		t.Errorf("settled: new %q, add %v, again %v; want only the new mail new, both dismissals followed", d.newIDs, d.add, d.again)
	}
	if !slices.Equal(d.remove, []string{"INBOX/7/1", "INBOX/7/2", "INBOX/7/9"}) {
		t.Errorf("remove %q, want the old ids", d.remove)
	}
	// Mail read elsewhere while other mail without an envelope arrived in
	// a folder already described whole: no hold, the mail counts.
	known = &seen.Account{Baselined: true, IDs: map[string]string{"INBOX/7/1": "<a@x>"}}
	in = &Inbox{IDs: []string{"INBOX/7/5"}, Described: []string{"INBOX"}}
	if d = decide(a, known, false, in, nil); d.again || !slices.Equal(d.newIDs, []string{"INBOX/7/5"}) {
		t.Errorf("described folder: again %v new %q; want no hold", d.again, d.newIDs)
	}
}
