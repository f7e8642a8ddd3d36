package poller

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
)

// mailShowable checks what every parser of outside data promises the UI:
// valid UTF-8 on one line.
func mailShowable(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s %q is not valid UTF-8", what, s)
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		t.Fatalf("%s %q holds a line break or NUL", what, s)
	}
}

// FuzzPOP3Header feeds a TOP reply to parsePOP3Header and the Mail it makes
// (MIME words, addresses, dates): no panic, one showable line per field, and
// a stable id.
func FuzzPOP3Header(f *testing.F) {
	for _, seed := range []string{
		pop3Hdr("Ann <ann@example.com>", "hello", "Mon, 02 Jan 2006 15:04:05 -0700", "<1@x>"),
		pop3Hdr("=?ISO-8859-1?Q?Andr=E9?= <andre@example.com>", "=?UTF-8?B?Y2Fmw6k=?=", "garbage", ""),
		"From: \"a\\\"b\" <x@y>\r\nSubject: =?utf-8?q?broken\r\n =?x-unknown?q?zz?=\r\n\tmore\r\n\r\nbody",
		"Subject:\r\nFrom:\r\nDate:\r\nMessage-ID:\r\n",
		"no colon here\r\n: empty key\r\nFROM: Upper <u@x>\r\nfrom: second <s@x>\r\n",
		"From: =?UTF-8?Q?=00=0A=0D?= <a@b>\r\nSubject: \x00\x1b[31mred\xff\xfe\r\n",
		"From: group: a@b, c@d;\r\nSubject: =?gb2312?B?xOO6ww==?=\r\n",
		"\n\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h := parsePOP3Header(b)
		m := h.mail("id")
		mailShowable(t, "From", m.From)
		mailShowable(t, "Subject", m.Subject)
		if m.ID != "id" || m.Folder != "INBOX" {
			t.Fatalf("mail %+v", m)
		}
		if id := h.id(); len(id) != 34 || id != parsePOP3Header(b).id() {
			t.Fatalf("id %q is not stable", id)
		}
	})
}

// FuzzParseLIST feeds LIST replies (the fallback for servers without UIDL):
// no panic, and what is accepted has distinct positive numbers and sizes
// made of digits.
func FuzzParseLIST(f *testing.F) {
	for _, seed := range []string{"1 100\r\n2 2000\r\n", "1 1\n", "", "0 1\r\n", "1 -5\r\n", "1 1\r\n1 2\r\n", "1  2\r\n", "999999999 1 \t\r\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := parseLIST(b)
		if err != nil {
			return
		}
		nums := map[int]bool{}
		for _, m := range msgs {
			if m.Num <= 0 || nums[m.Num] || m.UID == "" || strings.Trim(m.UID, "0123456789") != "" {
				t.Fatalf("accepted %+v from %q", m, b)
			}
			nums[m.Num] = true
		}
	})
}

// FuzzIMAPMail feeds imapMail envelopes with whatever a server may put in
// them (imapclient has parsed and MIME-decoded the strings): no panic, the
// id round-trips through ParseIMAPID.
func FuzzIMAPMail(f *testing.F) {
	f.Add("INBOX", uint32(1), uint32(7), "hello", "Ann", "ann", "example.com", "<1@x>", false)
	f.Add("Lists/Go", uint32(4294967295), uint32(1), "", "", "", "", "", true)
	f.Add("a/b/c", uint32(2), uint32(3), "\x00\r\n", "\xff", "nohost", "", "<>", false)
	f.Fuzz(func(t *testing.T, folder string, validity, uid uint32, subject, name, mailbox, host, msgID string, group bool) {
		env := &imap.Envelope{Subject: subject, MessageID: msgID}
		if group {
			env.From = append(env.From, imap.Address{Mailbox: "group"})
		}
		env.From = append(env.From, imap.Address{Name: name, Mailbox: mailbox, Host: host})
		if group {
			env.From = append(env.From, imap.Address{})
		}
		m := imapMail(folder, validity, imap.UID(uid), env, 0)
		if m.Folder != folder || m.Subject != subject || m.MessageID != msgID {
			t.Fatalf("mail %+v lost envelope fields", m)
		}
		if folder == "" || validity == 0 || uid == 0 {
			return
		}
		f2, v2, u2, ok := ParseIMAPID(m.ID)
		if !ok || f2 != folder || v2 != validity || u2 != uid {
			t.Fatalf("id %q parsed as %q %d %d %v", m.ID, f2, v2, u2, ok)
		}
	})
}
