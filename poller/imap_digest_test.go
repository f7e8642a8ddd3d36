package poller

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/internal/testenv"
)

// TestIMAPDigestForMailWithoutMessageID: a mail without a Message-ID gets a
// digest of Date, From, Subject and size, the same on every fetch and
// different for another mail; one with a Message-ID is matched by it.
func TestIMAPDigestForMailWithoutMessageID(t *testing.T) {
	m := startIMAPMem(t)
	date := time.Now().Format(time.RFC1123Z)
	noID := func(subject, body string) []byte {
		return []byte("From: Ann <ann@example.com>\r\nSubject: " + subject + "\r\nDate: " + date + "\r\n\r\n" + body + "\r\n")
	}
	m.add(t, "INBOX", noID("same", "x"))
	m.add(t, "INBOX", noID("same", "a longer body"))
	m.add(t, "INBOX", testenv.Message("Bob <bob@example.com>", "with id", "x"))
	fetch := func() *Inbox {
		ck := NewIMAP(m.account(), imapOptions(nil, "secret"))
		defer ck.Close()
		return mustCheck(t, ck, Query{Want: wantAll})
	}
	in1, in2 := fetch(), fetch()
	if len(in1.IDs) != 3 {
		t.Fatalf("ids %v, want 3", in1.IDs)
	}
	withID, a, b := in1.Mails[in1.IDs[0]], in1.Mails[in1.IDs[1]], in1.Mails[in1.IDs[2]]
	if withID.MessageID == "" || withID.Digest != "" || dismissKey(withID) != withID.MessageID {
		t.Errorf("mail with a Message-ID: %+v, want it keyed by the Message-ID alone", withID)
	}
	if !strings.HasPrefix(a.Digest, "d:") || len(a.Digest) != 34 || a.MessageID != "" {
		t.Errorf("mail without a Message-ID: %+v, want a digest d:<32 hex>", a)
	}
	if a.Digest == b.Digest {
		t.Errorf("two mails that differ in size share the digest %s", a.Digest)
	}
	for _, id := range in1.IDs {
		if k1, k2 := dismissKey(in1.Mails[id]), dismissKey(in2.Mails[id]); k1 != k2 {
			t.Errorf("%s: key %q, then %q in another session", id, k1, k2)
		}
	}
}

// TestIMAPEmptyEnvelopeOnKeptConnectionReconnects: an envelope without
// Date, From, Subject and Message-ID on a kept connection (GNU Mailutils
// sends such for mail another client moved from new/ to cur/) is not
// taken: the check runs again over a new connection and keeps what that
// one says.
func TestIMAPEmptyEnvelopeOnKeptConnectionReconnects(t *testing.T) {
	m := startIMAPMem(t)
	m.add(t, "INBOX", testenv.Message("Ann <ann@example.com>", "first", "x"))
	rec := &imapRecorder{}
	ck := NewIMAP(m.account(), imapOptions(rec, "secret"))
	defer ck.Close()
	mustCheck(t, ck, Query{Want: wantAll})
	if n := rec.count("LOGIN"); n != 1 {
		t.Fatalf("%d LOGINs for the first check", n)
	}
	uid := m.add(t, "INBOX", []byte("\r\nno header at all\r\n"))
	in := mustCheck(t, ck, Query{Want: wantAll})
	if n := rec.count("LOGIN"); n != 2 {
		t.Errorf("%d LOGINs after an empty envelope on the kept connection, want 2 (one new connection)", n)
	}
	var got Mail
	for id, mail := range in.Mails {
		if _, _, u, _ := ParseIMAPID(id); imap.UID(u) == uid {
			got = mail
		}
	}
	if got.ID == "" || got.Digest == "" {
		t.Errorf("the headerless mail after the new connection: %+v, want it described with a digest", got)
	}
	// Fetched on a fresh connection, an empty envelope is what the mail is.
	mustCheck(t, ck, Query{Want: wantAll})
	if n := rec.count("LOGIN"); n != 2 {
		t.Errorf("%d LOGINs: a headerless mail made another reconnect", n)
	}
}
