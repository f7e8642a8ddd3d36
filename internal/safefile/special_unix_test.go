//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadFileSpecialFiles: a FIFO without a writer, /dev/zero and a link to
// it are refused at once with an error naming the path; os.ReadFile would
// block on the FIFO forever and read /dev/zero until memory runs out.
func TestReadFileSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "zero-link")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	paths := []string{fifo, link}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths = append(paths, "/dev/zero")
	}
	for _, p := range paths {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(p, 1<<20); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), p) {
				t.Errorf("ReadFile(%s) = %v, want ErrNotRegular naming it", p, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadFile(%s) hangs", p)
		}
	}
}
