package accounts

import (
	"net/mail"
	"path"
	"strings"
)

// SenderRule is what an account does with mail from one sender.
type SenderRule int

// Sender rules, from quiet_from and ignore_from.
const (
	SenderNormal  SenderRule = iota // counted and notified
	SenderQuiet                     // quiet_from: counted, never notified
	SenderIgnored                   // ignore_from: neither counted nor notified
)

// Sender says what a does with mail from addr, a bare address such as
// "ann@example.org" (SenderAddress gives it from a From header). Patterns
// are path.Match globs on the whole address, case-insensitive: "*@github.com",
// "noreply@*". ignore_from wins over quiet_from. An empty address (a From
// that did not parse) matches no pattern: unknown mail is never hidden.
func (a Account) Sender(addr string) SenderRule {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return SenderNormal
	}
	switch {
	case matchAny(a.IgnoreFrom, addr):
		return SenderIgnored
	case matchAny(a.QuietFrom, addr):
		return SenderQuiet
	}
	return SenderNormal
}

// FiltersSenders reports whether a has quiet_from or ignore_from patterns.
func (a Account) FiltersSenders() bool { return len(a.QuietFrom) > 0 || len(a.IgnoreFrom) > 0 }

func matchAny(patterns []string, addr string) bool {
	addr = strings.ReplaceAll(addr, "/", noSlash)
	for _, p := range patterns {
		if ok, err := path.Match(strings.ReplaceAll(strings.ToLower(p), "/", noSlash), addr); ok && err == nil {
			return true
		}
	}
	return false
}

// noSlash stands in for "/" in a pattern and an address: path.Match's *
// stops at a slash, and a local part may hold one, so "a/b@spam.example"
// would get past ignore_from = ["*@spam.example"]. U+FFFF is not a
// character of any address, and a "/" in a pattern still matches one.
const noSlash = "\uFFFF"

// maxFromLen bounds the From header SenderAddress parses: a real one is a
// few hundred bytes, and a hostile one must not cost more than that.
const maxFromLen = 4096

// SenderAddress is the address of the first mailbox of a From header value
// ("Ann <ann@example.org>" → "ann@example.org"), lower-cased, or "" when it
// does not parse. The value is the sender's text: anything goes in, nothing
// panics.
func SenderAddress(from string) string {
	if len(from) > maxFromLen {
		return ""
	}
	list, err := mail.ParseAddressList(from)
	if err != nil || len(list) == 0 {
		return ""
	}
	return strings.ToLower(list[0].Address)
}

// senderPatternProblem says what is wrong with a quiet_from or ignore_from
// pattern, or "".
func senderPatternProblem(p string) string {
	switch {
	case strings.TrimSpace(p) == "":
		return "is empty"
	case textProblem(p) != "":
		return textProblem(p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return `is not a valid pattern (use * and ? as wildcards, e.g. "*@github.com")`
	}
	return ""
}
