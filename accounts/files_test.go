package accounts

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

// specialFiles makes, at path, each kind of file MailSneaker must refuse to
// read, and names what the error must say.
func specialFiles(size int64) []struct {
	name string
	make func(t *testing.T, path string)
	want string
} {
	return []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"symlink to /dev/zero", func(t *testing.T, path string) {
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip("no /dev/zero")
			}
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"fifo", func(t *testing.T, path string) {
			if runtime.GOOS == "windows" {
				t.Skip("no FIFOs")
			}
			if err := mkfifo(path); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"too large", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("#", int(size)+1)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "too large"},
	}
}

// TestLoadRefusesSpecialFiles: config.toml as /dev/zero, a FIFO, a directory
// or over 1 MiB gives an error naming it at once (the old code read /dev/zero
// until it ran out of memory and hung on a FIFO).
func TestLoadRefusesSpecialFiles(t *testing.T) {
	for _, tc := range specialFiles(MaxConfigSize) {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			tc.make(t, path)
			err := testenv.Within(t, 10*time.Second, func() error { _, err := Load(path); return err })
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error naming %s and saying %q", err, path, tc.want)
			}
			err = testenv.Within(t, 10*time.Second, func() error { return AddAccount(path, Account{Name: "x", Protocol: IMAP, Host: "h", Username: "u"}) })
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("AddAccount = %v, want an error naming %s", err, path)
			}
		})
	}
}

// TestParseRefusesTooLarge: the cap holds for text that did not come from
// Load (the setup page, an edit's result) too.
func TestParseRefusesTooLarge(t *testing.T) {
	_, err := Parse("config.toml", []byte(strings.Repeat("#", MaxConfigSize+1)))
	if err == nil || !strings.Contains(err.Error(), "config.toml: ") || !strings.Contains(err.Error(), "1 MiB") {
		t.Fatalf("Parse of 1 MiB + 1 = %v, want the size limit named", err)
	}
	if _, err := Parse("config.toml", []byte(strings.Repeat("#", MaxConfigSize))); err != nil {
		t.Fatalf("Parse of exactly 1 MiB: %v", err)
	}
}

// TestCAFileRefusesSpecialFiles: ca_file as /dev/zero, a FIFO, a directory or
// over the cap is a config error on the ca_file key, naming the file, at once.
func TestCAFileRefusesSpecialFiles(t *testing.T) {
	for _, tc := range specialFiles(MaxCAFileSize) {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ca := filepath.Join(dir, "ca.pem")
			tc.make(t, ca)
			text := "[[account]]\nname = \"w\"\nprotocol = \"imap\"\nhost = \"h\"\nusername = \"u\"\nca_file = \"ca.pem\"\n"
			err := testenv.Within(t, 10*time.Second, func() error { _, err := Parse(filepath.Join(dir, "config.toml"), []byte(text)); return err })
			if err == nil || !strings.Contains(err.Error(), ":6: ") || !strings.Contains(err.Error(), ca) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want a ca_file error on line 6 naming %s and saying %q", err, ca, tc.want)
			}
			err = testenv.Within(t, 10*time.Second, func() error { _, err := ReadCAFile(ca); return err })
			if err == nil || !strings.Contains(err.Error(), ca) {
				t.Fatalf("ReadCAFile = %v, want an error naming %s", err, ca)
			}
		})
	}
}
