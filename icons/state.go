// Package icons draws MailSneaker's tray icon in Go: an envelope with the
// number of new mails in a red badge, an amber warning mark when an account
// has an error, and a grey look when there is nothing to watch or nothing is
// reachable. Every size is drawn at that size (no scaled-down big image) so
// the digits stay crisp at 16, 22 and 32 px. It imports nothing of ours.
package icons

import "sync"

// MaxCount is the largest count the badge shows; higher counts read "99+".
const MaxCount = 99

// State is what the icon shows.
type State struct {
	Count   int  // new mails; 0 draws no badge, above MaxCount draws "99+"
	Error   bool // some account has an error: adds the warning mark
	Offline bool // no accounts, or none reachable: the whole icon turns grey
}

// Normal returns s reduced to one of a bounded set of variants: counts are
// clamped to 0..MaxCount+1 (MaxCount+1 stands for "99+"), and Offline hides
// Error because the grey icon already says that nothing can be checked.
func (s State) Normal() State {
	switch {
	case s.Count < 0:
		s.Count = 0
	case s.Count > MaxCount:
		s.Count = MaxCount + 1
	}
	if s.Offline {
		s.Error = false
	}
	return s
}

// badgeText is what the badge reads for a normalised count ("" for none).
func badgeText(count int) string {
	switch {
	case count <= 0:
		return ""
	case count > MaxCount:
		return "99+"
	}
	const digits = "0123456789"
	if count < 10 {
		return digits[count : count+1]
	}
	return string([]byte{digits[count/10], digits[count%10]})
}

// format names an encoding in the cache key.
type format int

const (
	formatPNG format = iota
	formatICO
)

type cacheKey struct {
	s    State // normalised
	size int   // 0 for ICO
	f    format
}

// maxCached bounds the cache: the tray asks for a handful of variants, but
// PNG accepts any size, so an unusual caller must not grow it without end.
const maxCached = 512

// cache holds encoded icons. It is package state on purpose: the tray asks
// for the same few variants over and over and each one costs an encode.
var cache struct {
	sync.Mutex
	m map[cacheKey][]byte
}

// cached returns the bytes for k, encoding them with enc on a miss. Callers
// get a shared slice and must not modify it.
func cached(k cacheKey, enc func() []byte) []byte {
	cache.Lock()
	b, ok := cache.m[k]
	cache.Unlock()
	if ok {
		return b
	}
	b = enc()
	cache.Lock()
	defer cache.Unlock()
	if cache.m == nil || len(cache.m) >= maxCached {
		cache.m = make(map[cacheKey][]byte)
	}
	cache.m[k] = b
	return b
}
