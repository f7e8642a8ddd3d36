package accounts

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// manyAccounts is a config with n minimal IMAP accounts (10,000 of them
// are about 750 KiB, under MaxConfigSize).
func manyAccounts(n int) []byte {
	var b strings.Builder
	b.WriteString("[general]\nnotify = true\n")
	for i := range n {
		fmt.Fprintf(&b, "\n[[account]]\nname = \"a%05d\"\nprotocol = \"imap\"\nhost = \"h\"\nusername = \"u\"\n", i)
	}
	return []byte(b.String())
}

// BenchmarkLoad10kAccounts loads a config of 10,000 accounts: a cost per
// key that grows with the file (a line lookup from the top) makes this
// quadratic, which 10,000 accounts turn into tens of seconds.
func BenchmarkLoad10kAccounts(b *testing.B) {
	path := filepath.Join(b.TempDir(), "config.toml")
	data := manyAccounts(10_000)
	if len(data) > MaxConfigSize {
		b.Fatalf("%d bytes: over the cap", len(data))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		cfg, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(cfg.Accounts) != 10_000 {
			b.Fatalf("%d accounts", len(cfg.Accounts))
		}
	}
}
