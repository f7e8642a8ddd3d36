package setup

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTokenNotInArgv opens the page through the real launch package with a
// fake xdg-open that stays alive while the test reads its /proc cmdline:
// another local user sees the path of a file they cannot read, never the
// launch token nor the session.
func TestTokenNotInArgv(t *testing.T) {
	dir := t.TempDir()
	pidPipe, release := filepath.Join(dir, "pid"), filepath.Join(dir, "release")
	for _, p := range []string{pidPipe, release} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bin := t.TempDir()
	script := "#!/bin/sh\necho $$ > '" + pidPipe + "'\nread x < '" + release + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())

	var notices []string
	l := NewLauncher(context.Background(), Options{ConfigPath: filepath.Join(dir, "config.toml"), Secrets: &fakeSecrets{}},
		func(s string) { notices = append(notices, s) })
	done := make(chan struct{})
	go func() { defer close(done); l.Add() }()
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.srv != nil {
			l.srv.Close()
		}
	})

	pid := make(chan string, 1)
	go func() { b, _ := os.ReadFile(pidPipe); pid <- strings.TrimSpace(string(b)) }()
	var p string
	select {
	case p = <-pid:
	case <-time.After(20 * time.Second):
		t.Fatal("the opener did not start")
	}
	if _, err := strconv.Atoi(p); err != nil {
		t.Fatalf("pid %q", p)
	}
	cmdline, err := os.ReadFile("/proc/" + p + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	// The opener is still running: let it go.
	if f, err := os.OpenFile(release, os.O_WRONLY, 0); err == nil {
		f.Write([]byte("\n"))
		f.Close()
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Add did not return")
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	last := args[len(args)-1]
	file, ok := strings.CutPrefix(last, "file://")
	if !ok || !strings.HasPrefix(file, os.Getenv("XDG_RUNTIME_DIR")) {
		t.Fatalf("opener argv %q: want the launch file last", args)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), launchPath)
	tok, _, _ := strings.Cut(rest, `"`)
	session := strings.TrimPrefix(l.srv.prefix, "/s/")
	for _, secret := range []string{tok, session} {
		if len(secret) < 40 {
			t.Fatalf("secret %q too short: test broken", secret)
		}
		if bytes.Contains(cmdline, []byte(secret)) {
			t.Errorf("secret in the opener's argv %q", redact(strings.Join(args, " "), tok, session))
		}
	}
	if bytes.Contains(cmdline, []byte("127.0.0.1")) {
		t.Errorf("the opener got the server's address: %q", redact(strings.Join(args, " "), tok, session))
	}
	if len(notices) > 0 {
		t.Errorf("notices %q", notices)
	}
}

// TestNoBrowserNotice has no opener at all: the notice names the launch
// file, which still works, and never the token.
func TestNoBrowserNotice(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	var notices []string
	l := NewLauncher(context.Background(), Options{ConfigPath: filepath.Join(t.TempDir(), "config.toml"), Secrets: &fakeSecrets{}},
		func(s string) { notices = append(notices, s) })
	l.Add()
	t.Cleanup(func() { l.srv.Close() })
	if len(notices) != 1 {
		t.Fatalf("notices %q", notices)
	}
	rest, ok := strings.CutPrefix(notices[0], "open ")
	file, _, _ := strings.Cut(rest, " ")
	b, err := os.ReadFile(file)
	if !ok || err != nil {
		t.Fatalf("notice %q: %v", notices[0], err)
	}
	_, after, _ := strings.Cut(string(b), launchPath)
	tok, _, _ := strings.Cut(after, `"`)
	if len(tok) < 40 || strings.Contains(notices[0], tok) || strings.Contains(notices[0], "127.0.0.1") {
		t.Errorf("notice %q shows the link (token %d chars)", redact(notices[0], tok), len(tok))
	}
}
