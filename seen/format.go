package seen

// The seen.db format, version 1. Text, one record a line, fields separated
// by one space, every field escaped so it holds no space, control byte or '%':
//
//	mailsneaker-seen 1 <nonce: 16 hex digits>
//	reset <0|1>
//	a <account> <baselined 0|1> <number of i lines that follow>
//	i <id> <message-id>
//	end <number of a and i lines> <CRC-32C of every byte before this line: 8 hex digits>
//
// The trailer catches truncation (a missing or partial last line) and
// corruption (the checksum); the nonce is new at every write, so a process
// recognises the file it last read or wrote without parsing it.

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"strconv"
	"strings"
)

const (
	seenMagic   = "mailsneaker-seen"
	seenVersion = 1
)

var seenCRCTable = crc32.MakeTable(crc32.Castagnoli)

// seenNewerFormatError reports a file written by a newer MailSneaker: it is not
// damaged, so it must not be moved aside or overwritten.
type seenNewerFormatError struct{ version int }

func (e *seenNewerFormatError) Error() string {
	return fmt.Sprintf("seen store format %d is newer than this MailSneaker understands (%d): upgrade MailSneaker, or move the file away to start over", e.version, seenVersion)
}

// errSeenCorrupt is wrapped by every error about a damaged file.
var errSeenCorrupt = errors.New("damaged seen store")

func seenCorrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errSeenCorrupt, fmt.Sprintf(format, args...))
}

// seenNeedsEscape marks the bytes escaped as %XX: the separators, control bytes
// (so the file stays line-oriented and readable) and '%' itself. Bytes ≥ 0x80
// stay raw, so UTF-8 names are readable and other bytes survive unchanged.
var seenNeedsEscape = func() (t [256]bool) {
	for c := 0; c <= ' '; c++ {
		t[c] = true
	}
	t[0x7f], t['%'] = true, true
	return t
}()

const seenHexDigits = "0123456789ABCDEF"

func appendSeenEscaped(buf []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; seenNeedsEscape[c] {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '%', seenHexDigits[c>>4], seenHexDigits[c&15])
			start = i + 1
		}
	}
	return append(buf, s[start:]...)
}

func seenUnhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// seenUnescape decodes a field; fields without '%' are returned as they are,
// sharing the file's string, which saves an allocation per id.
func seenUnescape(f string) (string, error) {
	if strings.IndexByte(f, '%') < 0 {
		return f, nil
	}
	var b strings.Builder
	b.Grow(len(f))
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(f) {
			return "", seenCorrupt("truncated escape in %q", f)
		}
		hi, ok1 := seenUnhex(f[i+1])
		lo, ok2 := seenUnhex(f[i+2])
		if !ok1 || !ok2 {
			return "", seenCorrupt("bad escape in %q", f)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func appendSeenHex(buf []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		buf = append(buf, seenHexDigits[(v>>(4*uint(i)))&15])
	}
	return buf
}

func appendSeenBool(buf []byte, v bool) []byte {
	if v {
		return append(buf, '1')
	}
	return append(buf, '0')
}

// encodeSeen returns the file content for st. Accounts are sorted; ids are
// not, because sorting 100k ids took half the time of a save.
func encodeSeen(st seenState, nonce uint64) []byte {
	size := 64
	for name, a := range st.accounts {
		size += len(name) + 32
		for id, mid := range a.IDs {
			size += len(id) + len(mid) + 4
		}
	}
	buf := make([]byte, 0, size+size/8)
	buf = append(buf, seenMagic+" "+strconv.Itoa(seenVersion)+" "...)
	buf = appendSeenHex(buf, nonce, 16)
	buf = append(buf, "\nreset "...)
	buf = appendSeenBool(buf, st.reset)
	buf = append(buf, '\n')
	lines := 0
	for _, name := range slices.Sorted(maps.Keys(st.accounts)) {
		a := st.accounts[name]
		buf = append(buf, "a "...)
		buf = appendSeenEscaped(buf, name)
		buf = append(buf, ' ')
		buf = appendSeenBool(buf, a.Baselined)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, int64(len(a.IDs)), 10)
		buf = append(buf, '\n')
		for id, mid := range a.IDs {
			buf = append(buf, "i "...)
			buf = appendSeenEscaped(buf, id)
			buf = append(buf, ' ')
			buf = appendSeenEscaped(buf, mid)
			buf = append(buf, '\n')
		}
		lines += 1 + len(a.IDs)
	}
	sum := crc32.Checksum(buf, seenCRCTable)
	buf = append(buf, "end "...)
	buf = strconv.AppendInt(buf, int64(lines), 10)
	buf = append(buf, ' ')
	buf = appendSeenHex(buf, uint64(sum), 8)
	return append(buf, '\n')
}

// verifySeen checks the header and the trailer (count syntax and checksum)
// without parsing the records. It returns the nonce, the offset of the
// trailer and the record count the trailer announces.
func verifySeen(data []byte) (nonce uint64, end int, lines int, err error) {
	nl := bytes.IndexByte(data[:min(len(data), 128)], '\n')
	if nl < 0 {
		return 0, 0, 0, seenCorrupt("no header line")
	}
	head := strings.Split(string(data[:nl]), " ")
	if head[0] != seenMagic || len(head) < 2 {
		return 0, 0, 0, seenCorrupt("not a MailSneaker seen store")
	}
	v, err := strconv.Atoi(head[1])
	if err != nil || v < 1 {
		return 0, 0, 0, seenCorrupt("bad version %q", head[1])
	}
	if v > seenVersion {
		return 0, 0, 0, &seenNewerFormatError{version: v}
	}
	if len(head) != 3 || len(head[2]) != 16 {
		return 0, 0, 0, seenCorrupt("bad header")
	}
	if nonce, err = strconv.ParseUint(head[2], 16, 64); err != nil {
		return 0, 0, 0, seenCorrupt("bad nonce")
	}
	if data[len(data)-1] != '\n' {
		return 0, 0, 0, seenCorrupt("truncated: no end line")
	}
	end = bytes.LastIndexByte(data[:len(data)-1], '\n') + 1
	if end <= nl {
		return 0, 0, 0, seenCorrupt("truncated: no end line")
	}
	trailer := strings.Split(string(data[end:len(data)-1]), " ")
	if len(trailer) != 3 || trailer[0] != "end" || len(trailer[2]) != 8 {
		return 0, 0, 0, seenCorrupt("truncated: no end line")
	}
	lines, err = strconv.Atoi(trailer[1])
	if err != nil || lines < 0 {
		return 0, 0, 0, seenCorrupt("bad record count %q", trailer[1])
	}
	sum, err := strconv.ParseUint(trailer[2], 16, 32)
	if err != nil {
		return 0, 0, 0, seenCorrupt("bad checksum %q", trailer[2])
	}
	if got := crc32.Checksum(data[:end], seenCRCTable); uint64(got) != sum {
		return 0, 0, 0, seenCorrupt("checksum mismatch (%08x, want %08x)", got, sum)
	}
	return nonce, end, lines, nil
}

// parseSeen decodes a whole file. Any inconsistency is an error wrapping
// errSeenCorrupt (or a *seenNewerFormatError); no content makes it panic.
func parseSeen(data []byte) (seenState, uint64, error) {
	nonce, end, want, err := verifySeen(data)
	if err != nil {
		return seenState{}, 0, err
	}
	// One conversion for the whole file: unescaped fields are substrings
	// of it, so 100k ids cost no allocation each.
	text := string(data[:end])
	_, rest, _ := strings.Cut(text, "\n") // the header, already checked
	line, rest, _ := strings.Cut(rest, "\n")
	st := seenState{accounts: map[string]*Account{}}
	switch line {
	case "reset 0":
	case "reset 1":
		st.reset = true
	default:
		return seenState{}, 0, seenCorrupt("bad reset line %q", line)
	}
	var (
		cur    *Account
		name   string
		expect int // i lines still due for cur
		lines  int
	)
	for rest != "" {
		var ok bool
		line, rest, ok = strings.Cut(rest, "\n")
		if !ok {
			return seenState{}, 0, seenCorrupt("unterminated line")
		}
		lines++
		kind, fields, _ := strings.Cut(line, " ")
		switch kind {
		case "i":
			if cur == nil || expect == 0 {
				return seenState{}, 0, seenCorrupt("id line %d outside an account", lines)
			}
			rawID, rawMID, ok := strings.Cut(fields, " ")
			if !ok || strings.IndexByte(rawMID, ' ') >= 0 {
				return seenState{}, 0, seenCorrupt("bad id line %d", lines)
			}
			id, err := seenUnescape(rawID)
			if err != nil {
				return seenState{}, 0, err
			}
			mid, err := seenUnescape(rawMID)
			if err != nil {
				return seenState{}, 0, err
			}
			if _, dup := cur.IDs[id]; dup {
				return seenState{}, 0, seenCorrupt("id %q twice in account %q", id, name)
			}
			cur.IDs[id] = mid
			expect--
		case "a":
			if expect != 0 {
				return seenState{}, 0, seenCorrupt("account %q lacks %d ids", name, expect)
			}
			f := strings.Split(fields, " ")
			if len(f) != 3 || (f[1] != "0" && f[1] != "1") {
				return seenState{}, 0, seenCorrupt("bad account line %d", lines)
			}
			if name, err = seenUnescape(f[0]); err != nil {
				return seenState{}, 0, err
			}
			if _, dup := st.accounts[name]; dup {
				return seenState{}, 0, seenCorrupt("account %q twice", name)
			}
			n, err := strconv.Atoi(f[2])
			if err != nil || n < 0 {
				return seenState{}, 0, seenCorrupt("bad id count on line %d", lines)
			}
			// An id line takes at least 4 bytes: never trust a count
			// for more than the rest of the file can hold.
			cur = &Account{Baselined: f[1] == "1", IDs: make(map[string]string, min(n, len(rest)/4))}
			st.accounts[name] = cur
			expect = n
		default:
			return seenState{}, 0, seenCorrupt("unknown record on line %d", lines)
		}
	}
	if expect != 0 {
		return seenState{}, 0, seenCorrupt("account %q lacks %d ids", name, expect)
	}
	if lines != want {
		return seenState{}, 0, seenCorrupt("%d records, end line says %d", lines, want)
	}
	return st, nonce, nil
}
