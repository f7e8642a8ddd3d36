package poller

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"mailsneaker/accounts"
)

// pop3Msg is one line of a UIDL or LIST reply.
type pop3Msg struct {
	Num int    // message number in this session, from 1
	UID string // UIDL: the unique id; LIST: the size
}

// parseUIDL parses the lines of a multi-line UIDL reply ("1 uid\r\n...",
// terminator and dot-stuffing already removed). It is strict, as RFC 1939
// section 7 allows it to be: a positive message number, a uid of 1 to 70
// characters 0x21-0x7E, no message number or uid twice.
func parseUIDL(b []byte) ([]pop3Msg, error) {
	msgs, err := pop3Lines(b, "UIDL", func(s string) error {
		if len(s) > 70 {
			return fmt.Errorf("uid of %d characters (at most 70)", len(s))
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x21 || s[i] > 0x7e {
				return fmt.Errorf("uid with byte %#02x", s[i])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	uids := make(map[string]int, len(msgs))
	for _, m := range msgs {
		if n, dup := uids[m.UID]; dup {
			return nil, fmt.Errorf("UIDL: messages %d and %d have the same uid %q", n, m.Num, m.UID)
		}
		uids[m.UID] = m.Num
	}
	return msgs, nil
}

// parseLIST parses the lines of a multi-line LIST reply ("1 size\r\n...").
func parseLIST(b []byte) ([]pop3Msg, error) {
	return pop3Lines(b, "LIST", func(s string) error {
		if len(s) == 0 || len(s) > 20 || strings.Trim(s, "0123456789") != "" {
			return fmt.Errorf("size %q", pop3Clip(s))
		}
		return nil
	})
}

// pop3Lines splits a scan listing into (number, word) pairs, checking the
// word with check. A 100k-message listing is parsed without an allocation
// per line: the words are substrings of one copy of b.
func pop3Lines(b []byte, what string, check func(string) error) ([]pop3Msg, error) {
	rest := string(b)
	msgs := make([]pop3Msg, 0, strings.Count(rest, "\n")+1)
	// Servers list messages in ascending order; a set is needed only to
	// find a number listed twice in a listing that is not.
	prev := 0
	var nums map[int]struct{}
	for n := 1; len(rest) > 0; n++ {
		line, after, _ := strings.Cut(rest, "\n")
		rest = after
		// Trailing blanks are harmless; anything else odd is an error.
		line = strings.TrimRight(line, "\r \t")
		numStr, word, ok := strings.Cut(line, " ")
		if !ok || strings.IndexByte(word, ' ') >= 0 {
			return nil, fmt.Errorf("%s line %d: %q is not \"number word\"", what, n, pop3Clip(line))
		}
		num, ok := pop3Number(numStr)
		if !ok {
			return nil, fmt.Errorf("%s line %d: bad message number %q", what, n, pop3Clip(numStr))
		}
		if num <= prev && nums == nil {
			nums = make(map[int]struct{}, len(msgs))
			for _, m := range msgs {
				nums[m.Num] = struct{}{}
			}
		}
		if nums != nil {
			if _, dup := nums[num]; dup {
				return nil, fmt.Errorf("%s line %d: message %d listed twice", what, n, num)
			}
			nums[num] = struct{}{}
		}
		prev = max(prev, num)
		if err := check(word); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", what, n, err)
		}
		msgs = append(msgs, pop3Msg{Num: num, UID: word})
	}
	return msgs, nil
}

// pop3Number parses a positive decimal number of at most 9 digits (no sign,
// no leading zero), so that it fits an int everywhere.
func pop3Number(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// pop3Header holds the header fields a check needs, raw.
type pop3Header struct {
	from, subject, date, messageID string
}

// parsePOP3Header reads the header fields of a TOP reply. It is lenient: a
// malformed line is skipped, since one odd message must not fail the account.
func parsePOP3Header(b []byte) pop3Header {
	var h pop3Header
	var key string
	var val []string
	flush := func() {
		v := strings.TrimSpace(strings.Join(val, " "))
		switch key {
		case "from":
			h.from = v
		case "subject":
			h.subject = v
		case "date":
			h.date = v
		case "message-id":
			h.messageID = v
		}
		key, val = "", nil
	}
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break // end of the header
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key != "" {
				val = append(val, strings.TrimSpace(string(line)))
			}
			continue
		}
		flush()
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		k = bytes.ToLower(bytes.TrimSpace(k))
		switch string(k) {
		case "from", "subject", "date", "message-id":
			if pop3HeaderSet(h, string(k)) {
				continue // the first one counts
			}
			key, val = string(k), []string{string(v)}
		}
	}
	flush()
	return h
}

func pop3HeaderSet(h pop3Header, k string) bool {
	switch k {
	case "from":
		return h.from != ""
	case "subject":
		return h.subject != ""
	case "date":
		return h.date != ""
	}
	return h.messageID != ""
}

// mail describes the message with id for the user: the display name (else
// the address) of From, the decoded Subject, Date and Message-ID.
func (h pop3Header) mail(id string) Mail {
	dec := newWordDecoder()
	m := Mail{ID: id, Folder: "INBOX", MessageID: h.messageID}
	if h.from != "" {
		p := mail.AddressParser{WordDecoder: dec}
		m.Address = accounts.SenderAddress(h.from)
		if a, err := p.Parse(h.from); err == nil && a.Name != "" {
			m.From = a.Name
		} else if err == nil {
			m.From = a.Address
		} else if s, err := dec.DecodeHeader(h.from); err == nil {
			m.From = s
		} else {
			m.From = h.from
		}
	}
	m.Subject = h.subject
	if s, err := dec.DecodeHeader(h.subject); err == nil {
		m.Subject = s
	}
	m.From, m.Subject = pop3Clean(m.From), pop3Clean(m.Subject)
	if t, err := mail.ParseDate(h.date); err == nil {
		m.Date = t
	}
	return m
}

// pop3Clean makes a header value safe to show on one line.
func pop3Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// id is the stand-in for a uid on servers without UIDL: a hash of the fields
// that identify a message, "h:" + 32 hex digits.
func (h pop3Header) id() string {
	sum := sha256.Sum256([]byte(h.messageID + "\n" + h.date + "\n" + h.from))
	return "h:" + hex.EncodeToString(sum[:16])
}
