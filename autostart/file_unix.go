//go:build unix

package autostart

import (
	"os"
	"path/filepath"

	"mailsneaker/internal/safefile"
)

// writeEntry replaces the entry at path atomically, so a session starting up
// reads the old entry or the new one, never a partial one.
func writeEntry(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return safefile.WriteFile(path, data, &safefile.WriteOptions{Perm: 0o644})
}
