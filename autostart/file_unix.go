//go:build unix

package autostart

import (
	"os"
	"path/filepath"

	"mailsneaker/internal/safefile"
)

// maxEntrySize caps the autostart entry we read: ours is a few hundred
// bytes, and a hand-edited one has no reason to reach 64 KiB.
const maxEntrySize = 64 << 10

// writeEntry replaces the entry at path atomically, so a session starting up
// reads the old entry or the new one, never a partial one.
func writeEntry(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return safefile.WriteFile(path, data, &safefile.WriteOptions{Perm: 0o644})
}

// readEntry reads the entry at path; it must be a regular file under
// maxEntrySize (a FIFO or /dev/zero there gives an error, not a hang).
func readEntry(path string) ([]byte, error) {
	return safefile.ReadFile(path, maxEntrySize)
}
