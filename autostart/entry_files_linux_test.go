package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEnabledRefusesSpecialEntry: an autostart entry that is a FIFO, a link
// to /dev/zero or over the cap gives an error naming it, at once (the old
// code hung on the FIFO and read /dev/zero until it ran out of memory).
func TestEnabledRefusesSpecialEntry(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "not a regular file"},
		{"symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "not a regular file"},
		{"too large", func(p string) error {
			return os.WriteFile(p, []byte("[Desktop Entry]\n"+strings.Repeat("#", maxEntrySize)), 0o600)
		}, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", cfg)
			t.Setenv("XDG_CONFIG_DIRS", t.TempDir())
			entry := filepath.Join(cfg, "autostart", entryName)
			if err := os.MkdirAll(filepath.Dir(entry), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(entry); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := Enabled(); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), entry) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Enabled = %v, want an error naming %s and saying %q", err, entry, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Enabled hangs")
			}
		})
	}
}
