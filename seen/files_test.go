package seen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

// seenDirSnapshot records every entry of dir with its type and content, to
// check that a failed load moved and rewrote nothing.
func seenDirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range ents {
		if e.Name() == seenLockFile {
			continue
		}
		p := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		v := fi.Mode().Type().String()
		if fi.Mode().IsRegular() && fi.Size() > 1<<20 {
			v += fmt.Sprint(fi.Size(), fi.ModTime()) // the too-large sparse file
		} else if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			v += string(b)
		} else if fi.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			v += "->" + target
		}
		m[e.Name()] = v
	}
	return m
}

func sameSnapshot(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestSeenReadErrorIsNotDamage: a seen.db (or .prev) that cannot be read is
// an error from Open, Reload and Save, and both files stay as they are; the
// old code moved seen.db aside and loaded .prev, bringing back dismissed mail.
func TestSeenReadErrorIsNotDamage(t *testing.T) {
	eio := &os.PathError{Op: "read", Err: syscall.EIO}
	failing := func(name string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if filepath.Base(p) == name {
				e := *eio
				e.Path = p
				return nil, &e
			}
			return readSeenFile(p)
		}
	}
	for _, name := range []string{seenFile, seenPrevFile} {
		t.Run("open/"+name, func(t *testing.T) {
			dir := t.TempDir()
			seenTwoGenerations(t, dir)
			if name == seenPrevFile {
				seenFlipByte(t, filepath.Join(dir, seenFile), 60) // damaged, so .prev is read
			}
			before := seenDirSnapshot(t, dir)
			_, err := open(dir, failing(name))
			if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), filepath.Join(dir, name)) {
				t.Fatalf("Open = %v, want an EIO error naming %s", err, name)
			}
			if after := seenDirSnapshot(t, dir); !sameSnapshot(before, after) {
				t.Fatalf("files changed by a failed Open:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
	t.Run("reload and save", func(t *testing.T) {
		dir := t.TempDir()
		seenTwoGenerations(t, dir)
		s := seenOpen(t, dir)
		other := seenOpen(t, dir)
		other.Update("a", func(a *Account) { a.IDs["3"] = "" })
		seenSave(t, other) // a new file, so Reload must read it
		before := seenDirSnapshot(t, dir)
		s.readFile = failing(seenFile)
		if err := s.Reload(); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Reload = %v, want EIO", err)
		}
		s.Update("a", func(a *Account) { a.IDs["4"] = "" })
		if err := s.Save(); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Save = %v, want EIO", err)
		}
		if after := seenDirSnapshot(t, dir); !sameSnapshot(before, after) {
			t.Fatalf("files changed by a failed Reload/Save:\nbefore %q\nafter  %q", before, after)
		}
		if c := seenCorruptFiles(t, dir); len(c) != 0 {
			t.Fatalf("moved aside: %q", c)
		}
	})
}

// TestSeenSpecialFilesRefused: seen.db or .prev that is not a regular file,
// or is over the size cap, is an error naming it, at once, with nothing moved.
func TestSeenSpecialFilesRefused(t *testing.T) {
	type setup func(t *testing.T, path string)
	symlinkZero := func(t *testing.T, path string) {
		if _, err := os.Stat("/dev/zero"); err != nil {
			t.Skip("no /dev/zero")
		}
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
	}
	fifo := func(t *testing.T, path string) {
		if err := mkfifo(path); err != nil {
			t.Skip("no FIFOs here:", err)
		}
	}
	directory := func(t *testing.T, path string) {
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tooLarge := func(t *testing.T, path string) {
		// Sparse: no disk space used, but its size is over the cap.
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(maxSeenSize + 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		make setup
		want string
	}{
		{"symlink to /dev/zero", symlinkZero, "not a regular file"},
		{"fifo", fifo, "not a regular file"},
		{"directory", directory, "not a regular file"},
		{"too large", tooLarge, "too large"},
	} {
		for _, file := range []string{seenFile, seenPrevFile} {
			t.Run(fmt.Sprintf("%s/%s", tc.name, file), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, file)
				tc.make(t, path)
				before := seenDirSnapshot(t, dir)
				err := testenv.Within(t, 10*time.Second, func() error { _, err := Open(dir); return err })
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Open = %v, want an error naming %s and saying %q", err, path, tc.want)
				}
				if after := seenDirSnapshot(t, dir); !sameSnapshot(before, after) {
					t.Fatalf("files changed:\nbefore %q\nafter  %q", before, after)
				}
			})
		}
	}
}

// TestSeenSaveRefusesOverCap: a store that would be over the read cap is not
// written, so the next Open is not locked out.
func TestSeenSaveRefusesOverCap(t *testing.T) {
	dir := t.TempDir()
	s := seenOpen(t, dir)
	s.Update("a", func(a *Account) { a.IDs["1"] = "" })
	seenSave(t, s)
	before := seenDirSnapshot(t, dir)
	if err := s.commit(make([]byte, maxSeenSize+1), true); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("commit over the cap = %v, want refused", err)
	}
	if after := seenDirSnapshot(t, dir); !sameSnapshot(before, after) {
		t.Fatalf("files changed:\nbefore %q\nafter  %q", before, after)
	}
}
