package seen

import (
	"fmt"
	"testing"
)

// seenFill100k gives s 100k realistic entries: POP3 UIDLs as Dovecot makes
// them, and IMAP keys with Message-IDs.
func seenFill100k(s *Store) {
	s.Update("pop3 work", func(a *Account) {
		a.Baselined = true
		for i := range 50_000 {
			a.IDs[fmt.Sprintf("%08x%08x", 1, 0x6b075be9+i)] = ""
		}
	})
	s.Update("imap home", func(a *Account) {
		a.Baselined = true
		for i := range 50_000 {
			a.IDs[fmt.Sprintf("INBOX/1700000000/%d", 12345+i)] = fmt.Sprintf("<%d.%d@mail.example.com>", 1700000000+i, i)
		}
	})
}

func BenchmarkSeenLoad100k(b *testing.B) {
	dir := b.TempDir()
	s := seenOpen(b, dir)
	seenFill100k(s)
	seenSave(b, s)
	b.ReportAllocs()
	for b.Loop() {
		s := seenOpen(b, dir)
		if len(s.Account("pop3 work").IDs) != 50_000 {
			b.Fatal("short load")
		}
	}
}

// BenchmarkSeenSave100k is the manager's steady state: one new id, then Save
// (copy on write of the account, encode, write, fsync, rename).
func BenchmarkSeenSave100k(b *testing.B) {
	s := seenOpen(b, b.TempDir())
	seenFill100k(s)
	seenSave(b, s)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s.Update("pop3 work", func(a *Account) { a.IDs[fmt.Sprintf("new%d", i)] = "" })
		seenSave(b, s)
	}
}

// BenchmarkSeenSaveMerge100k is Save when another process wrote since:
// the file is parsed and merged too.
func BenchmarkSeenSaveMerge100k(b *testing.B) {
	dir := b.TempDir()
	s := seenOpen(b, dir)
	seenFill100k(s)
	seenSave(b, s)
	other := seenOpen(b, dir)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		other.Update("imap home", func(a *Account) { a.IDs[fmt.Sprintf("INBOX/1700000001/%d", i)] = "" })
		seenSave(b, other)
		b.StartTimer()
		s.Update("pop3 work", func(a *Account) { a.IDs[fmt.Sprintf("new%d", i)] = "" })
		seenSave(b, s)
	}
}
