package poller

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseUIDL100k parses the UIDL listing of a 100k-message maildrop.
func BenchmarkParseUIDL100k(b *testing.B) {
	var sb strings.Builder
	for i := 1; i <= 100_000; i++ {
		fmt.Fprintf(&sb, "%d %08x%08x\r\n", i, i, 0x6b075be9)
	}
	listing := []byte(sb.String())
	b.SetBytes(int64(len(listing)))
	b.ReportAllocs()
	for b.Loop() {
		if msgs, err := parseUIDL(listing); err != nil || len(msgs) != 100_000 {
			b.Fatal(len(msgs), err)
		}
	}
}
