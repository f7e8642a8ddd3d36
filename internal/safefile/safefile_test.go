package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTryLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if l2, err := TryLock(path); !errors.Is(err, ErrLocked) {
		if l2 != nil {
			l2.Unlock()
		}
		t.Fatalf("second TryLock while held: %v, want ErrLocked", err)
	}
	if _, err := LockWait(path, 20*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("LockWait while held: %v, want ErrLocked after the timeout", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l, err = LockWait(path, time.Second)
	if err != nil {
		t.Fatalf("LockWait after release: %v", err)
	}
	l.Unlock()
}

func TestLockWaitGetsLockWhenReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		l2, err := LockWait(path, 10*time.Second)
		if err == nil {
			l2.Unlock()
		}
		got <- err
	}()
	l.Unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("LockWait: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LockWait did not return after the lock was released")
	}
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new" {
		t.Fatalf("after WriteFile: %q, %v", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if err := WriteFile(path, []byte("pub"), &WriteOptions{Perm: 0o644}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	// A failing hook leaves the old file and no temp file.
	boom := errors.New("boom")
	err = WriteFile(path, []byte("lost"), &WriteOptions{BeforeRename: func() error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("WriteFile with failing hook: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "pub" {
		t.Errorf("after failed write: %q, want the old content", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("dir holds %d entries after a failed write, want only the file", len(ents))
	}
}

func TestReadFileLimits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(path, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile at the cap: %q, %v", b, err)
	}
	if _, err := ReadFile(path, 4); !errors.Is(err, ErrTooLarge) || !containsPath(err, path) {
		t.Errorf("ReadFile over the cap: %v, want ErrTooLarge naming the file", err)
	}
	if _, err := ReadFile(dir, 100); !errors.Is(err, ErrNotRegular) || !containsPath(err, dir) {
		t.Errorf("ReadFile of a directory: %v, want ErrNotRegular naming it", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want ErrNotExist", err)
	}
}

func containsPath(err error, path string) bool {
	return err != nil && strings.Contains(err.Error(), path)
}
