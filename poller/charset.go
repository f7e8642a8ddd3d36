package poller

import (
	"mime"

	"github.com/emersion/go-message/charset"
)

// newWordDecoder decodes MIME encoded-words (RFC 2047) in every charset
// go-message knows (ISO-8859-*, Windows-125x, KOI8, Shift_JIS, GB18030, …),
// not just the three the standard library does.
func newWordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: charset.Reader}
}
