package testenv

import (
	"bytes"
	"strings"
	"sync"
)

// LogBuffer collects the log of code under test whose goroutines write
// concurrently (an slog handler's writer); the zero value is empty and
// ready.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Count is the number of times s occurs in what was written so far.
func (b *LogBuffer) Count(s string) int { return strings.Count(b.String(), s) }
