package poller

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// TestTLSConfigRefusesSpecialCAFile: a ca_file that turned into /dev/zero or
// a directory after the config was loaded is a config error naming it, at
// once, not an out-of-memory crash.
func TestTLSConfigRefusesSpecialCAFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca-dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	paths := []string{dir}
	if _, err := os.Stat("/dev/zero"); err == nil {
		link := filepath.Join(t.TempDir(), "zero.pem")
		if err := os.Symlink("/dev/zero", link); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, link)
	}
	for _, p := range paths {
		done := make(chan error, 1)
		go func() {
			_, err := tlsConfig(accounts.Account{Name: "w", Host: "h", CAFile: p}, nil)
			done <- err
		}()
		select {
		case err := <-done:
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Kind != KindConfig || !strings.Contains(err.Error(), p) {
				t.Fatalf("tlsConfig(ca_file=%s) = %v, want a config error naming it", p, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("tlsConfig(ca_file=%s) hangs", p)
		}
	}
}
