package accounts

import (
	"bytes"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// layout is where things are in the text of a config file: the tables in
// order, and the lines of their keys. It drives both the line numbers of
// validation errors and the text edits of AddAccount and friends.
type layout struct {
	data   []byte
	starts []int    // byte offset where each line starts: starts[0] is line 1
	blocks []*block // in file order; blocks[0] is the root (keys before any header)
}

// block is one table of the file: the root, a [table] or an [[array]] entry.
type block struct {
	path       string // "" for the root, "general", "account", "a.b"
	array      bool   // [[path]]
	headerLine int    // 0 for the root
	lastLine   int    // last line of the header or of any key-value in it
	keys       []keyval
}

// keyval is one `key = value` of a block.
type keyval struct {
	key        string // dotted keys are joined with "."
	line       int    // line of the key
	endLine    int    // last line of the value (multi-line arrays)
	start, end int    // byte range of `key = value`
	str        string // the value, if it is a string
	isStr      bool
}

// scanLayout indexes data; a syntax error stops the scan where it happens
// (go-toml reports it separately).
//
// Lines come from an index of line starts built once: go-toml's Parser.Shape
// counts lines from the top of the file on every call, which made a file of
// 8,000 accounts take half a minute.
func scanLayout(data []byte) *layout {
	l := &layout{data: data, starts: lineStarts(data), blocks: []*block{{}}}
	p := unstable.Parser{}
	p.Reset(data)
	cur := l.blocks[0]
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			it := e.Key()
			path, first := keyPath(it)
			line := 0
			if first != nil {
				line = l.lineAt(int(first.Raw.Offset))
			}
			cur = &block{path: path, array: e.Kind == unstable.ArrayTable, headerLine: line, lastLine: line}
			l.blocks = append(l.blocks, cur)
		case unstable.KeyValue:
			path, _ := keyPath(e.Key())
			start := int(e.Raw.Offset)
			end := start + int(e.Raw.Length)
			kv := keyval{key: path, line: l.lineAt(start), endLine: l.lineAt(end),
				start: start, end: end}
			if v := e.Value(); v.Kind == unstable.String {
				kv.str, kv.isStr = string(v.Data), true
			}
			cur.keys = append(cur.keys, kv)
			cur.lastLine = max(cur.lastLine, kv.endLine)
		}
	}
	return l
}

// lineStarts returns the byte offset where each line of data starts.
func lineStarts(data []byte) []int {
	starts := make([]int, 1, bytes.Count(data, []byte{'\n'})+1)
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineAt is the 1-based line holding byte offset off (an offset at the end
// of the data is on the last line).
func (l *layout) lineAt(off int) int {
	n, _ := slices.BinarySearch(l.starts, off+1)
	return n
}

func keyPath(it unstable.Iterator) (string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	for it.Next() {
		if first == nil {
			first = it.Node()
		}
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, "."), first
}

// accounts returns the [[account]] blocks in file order.
func (l *layout) accounts() []*block {
	var out []*block
	for _, b := range l.blocks {
		if b.array && b.path == "account" {
			out = append(out, b)
		}
	}
	return out
}

// line of key in the block, or of the header if the key is not written.
func (b *block) line(key string) int {
	if kv := b.find(key); kv != nil {
		return kv.line
	}
	return b.headerLine
}

func (b *block) find(key string) *keyval {
	for i := range b.keys {
		if b.keys[i].key == key {
			return &b.keys[i]
		}
	}
	return nil
}

// name is the account name written in the block.
func (b *block) name() string {
	if kv := b.find("name"); kv != nil && kv.isStr {
		return kv.str
	}
	return ""
}

// generalLine is the line of a [general] key, also when written as a dotted
// key at the top (general.notify = true).
func (l *layout) generalLine(key string) int {
	for _, b := range l.blocks {
		if b.path == "" {
			if kv := b.find("general." + key); kv != nil {
				return kv.line
			}
		}
		if b.path == "general" && !b.array {
			return b.line(key)
		}
	}
	return 0
}

// accountAt returns the 1-based index of the [[account]] block holding line,
// or 0.
func (l *layout) accountAt(line int) (int, *block) {
	idx := 0
	var found *block
	for _, b := range l.blocks {
		if b.headerLine > line {
			break
		}
		if b.array && b.path == "account" {
			idx++
			found = b
		} else if b.path != "" {
			found = nil
		}
	}
	if found == nil {
		return 0, nil
	}
	return idx, found
}

// lineStart is the byte offset where 1-based line n starts (len(data) past the end).
func (l *layout) lineStart(n int) int {
	if n < 1 {
		return 0
	}
	if n > len(l.starts) {
		return len(l.data)
	}
	return l.starts[n-1]
}

// lines returns the text of each line, without line endings, 1-based
// (lines()[0] is empty).
func (l *layout) lines() []string {
	s := strings.Split(string(l.data), "\n")
	out := make([]string, len(s)+1)
	for i, t := range s {
		out[i+1] = strings.TrimSuffix(t, "\r")
	}
	return out
}
