//go:build linux

package launch

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fifo makes a named pipe and returns its path and a channel that delivers
// what the first writer wrote.
func fifo(t *testing.T, name string) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, err := os.ReadFile(path) // blocks until a writer opens and closes it
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	}()
	t.Cleanup(func() {
		// Unblock the reader if nobody wrote.
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	return path, got
}

func wait(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was opened")
		return ""
	}
}

// fakeOpener puts an xdg-open first in PATH that writes its arguments to a
// pipe, and returns what it wrote.
func fakeOpener(t *testing.T) <-chan string {
	t.Helper()
	out, got := fifo(t, "args")
	dir := t.TempDir()
	script := "#!/bin/sh\nprintf '%s|' \"$@\" > '" + out + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return got
}

func TestOpenURL(t *testing.T) {
	got := fakeOpener(t)
	var logs bytes.Buffer
	Open(slog.New(slog.NewTextHandler(&logs, nil)), Mail{Account: "work", URL: "https://mail.example.test/inbox"})
	if s := wait(t, got); s != "https://mail.example.test/inbox|" {
		t.Errorf("opener got %q", s)
	}
	if logs.Len() > 0 {
		t.Errorf("logged %s", logs.String())
	}
}

func TestOpenRunsShellOpenCommand(t *testing.T) {
	out, got := fifo(t, "ran")
	Open(slog.New(slog.DiscardHandler), Mail{Account: "work", OpenCommand: "printf '%s' \"$((6*7)) via sh\" > '" + out + "'"})
	if s := wait(t, got); s != "42 via sh" {
		t.Errorf("open_command wrote %q", s)
	}
}

func TestFileOpensPath(t *testing.T) {
	got := fakeOpener(t)
	if err := File("/some/dir/page.html"); err != nil {
		t.Fatal(err)
	}
	if s := wait(t, got); s != "file:///some/dir/page.html|" {
		t.Errorf("opener got %q", s)
	}
}

func TestNoBrowser(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var logs bytes.Buffer
	Open(slog.New(slog.NewTextHandler(&logs, nil)), Mail{Account: "work", URL: "https://mail.example.test/"})
	if !bytes.Contains(logs.Bytes(), []byte("cannot open the mail")) {
		t.Errorf("log: %s", logs.String())
	}
}
