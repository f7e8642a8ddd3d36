package accounts

import (
	"testing"

	"github.com/pelletier/go-toml/v2/unstable"
)

// TestLayoutLinesMatchParser: the line index gives the same lines and byte
// ranges as go-toml's own (quadratic) Shape, on a file with CRLF endings,
// comments, multi-line arrays and strings, and no final newline.
func TestLayoutLinesMatchParser(t *testing.T) {
	text := "# top\r\n[general]\r\nnotify = true\r\n\r\n[[account]] # c\nname = \"a\"\nfolders = [\n  \"INBOX\",\n  \"x\",\n]\n" +
		"password_command = '''\nmulti\nline'''\n\n\n[[account]]\n  name = \"b\"\nhost = \"h\""
	l := scanLayout([]byte(text))
	var want []keyval
	var headers []int
	p := unstable.Parser{}
	p.Reset([]byte(text))
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.ArrayTable, unstable.Table:
			_, first := keyPath(e.Key())
			headers = append(headers, p.Shape(first.Raw).Start.Line)
		case unstable.KeyValue:
			sh := p.Shape(e.Raw)
			want = append(want, keyval{line: sh.Start.Line, endLine: sh.End.Line, start: sh.Start.Offset, end: sh.End.Offset})
		}
	}
	if err := p.Error(); err != nil {
		t.Fatal(err)
	}
	var got []keyval
	var gotHeaders []int
	for _, b := range l.blocks {
		if b.headerLine > 0 {
			gotHeaders = append(gotHeaders, b.headerLine)
		}
		for _, kv := range b.keys {
			got = append(got, keyval{line: kv.line, endLine: kv.endLine, start: kv.start, end: kv.end})
		}
	}
	if len(got) != len(want) || len(gotHeaders) != len(headers) {
		t.Fatalf("got %d keys and headers %v, want %d keys and headers %v", len(got), gotHeaders, len(want), headers)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("key %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	for i := range headers {
		if gotHeaders[i] != headers[i] {
			t.Errorf("header %d: line %d, want %d", i, gotHeaders[i], headers[i])
		}
	}
	for n := 0; n <= len(l.starts)+2; n++ {
		if got, want := l.lineStart(n), lineStartSlow(text, n); got != want {
			t.Errorf("lineStart(%d) = %d, want %d", n, got, want)
		}
	}
}

// lineStartSlow is the obvious scan lineStart replaces.
func lineStartSlow(text string, n int) int {
	off := 0
	for i := 1; i < n; i++ {
		j := -1
		for k := off; k < len(text); k++ {
			if text[k] == '\n' {
				j = k
				break
			}
		}
		if j < 0 {
			return len(text)
		}
		off = j + 1
	}
	return off
}
