//go:build linux

package launch

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recorder is a program that writes its argv, NUL-separated, into a pipe;
// it returns the program's path and what it wrote.
func recorder(t *testing.T) (string, <-chan string) {
	t.Helper()
	out, got := fifo(t, "argv")
	prog := filepath.Join(t.TempDir(), "rec")
	script := "#!/bin/sh\nprintf '%s\\0' \"$0\" \"$@\" > '" + out + "'\n"
	if err := os.WriteFile(prog, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return prog, got
}

// TestOpenHostileMessageID: a Message-ID written to run commands arrives
// as one argument, in plain and in shell mode, and runs nothing.
func TestOpenHostileMessageID(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	pwned := filepath.Join(dir, "pwned")
	for _, id := range []string{
		"<x@y>; touch " + pwned,
		"<$(touch " + pwned + ")@y>",
		"<`touch " + pwned + "`@y>",
		"<x@y' ; touch " + pwned + " ; '>",
		`<x@y" ; touch ` + pwned + ` ; ">`,
	} {
		for _, tmpl := range []string{"%s {message_id}", "%s id={message_id} | cat", "%s '{message_id}' \"{message_id}\" > /dev/null; true"} {
			prog, got := recorder(t)
			cmd := strings.Replace(tmpl, "%s", prog, 1)
			var logs bytes.Buffer
			Open(slog.New(slog.NewTextHandler(&logs, nil)), Mail{Account: "work", OpenCommand: cmd, MessageID: id})
			s := wait(t, got)
			args := strings.Split(strings.TrimSuffix(s, "\x00"), "\x00")
			bare := bareID(id)
			if !slices.Contains(args, bare) && !slices.Contains(args, "id="+bare) {
				t.Errorf("%s with %q: argv %q does not hold the id as one element", cmd, id, args)
			}
			if logs.Len() > 0 {
				t.Errorf("logged %s", logs.String())
			}
		}
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("a Message-ID ran a command: the file exists")
	}
}

// TestOpenThunderbirdArgv: the built-in Thunderbird choice runs
// `thunderbird mid:<id>` found in PATH.
func TestOpenThunderbirdArgv(t *testing.T) {
	prog, got := recorder(t)
	dir := filepath.Dir(prog)
	if err := os.Rename(prog, filepath.Join(dir, "thunderbird")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	Open(slog.New(slog.DiscardHandler), Mail{Account: "work", OpenWith: "thunderbird", MessageID: "<a$b@example.org>"})
	args := strings.Split(strings.TrimSuffix(wait(t, got), "\x00"), "\x00")
	if len(args) != 2 || filepath.Base(args[0]) != "thunderbird" || args[1] != "mid:a$b@example.org" {
		t.Errorf("argv %q", args)
	}
}

// TestOpenGmailURL: the Gmail choice opens the search URL in the browser.
func TestOpenGmailURL(t *testing.T) {
	got := fakeOpener(t)
	Open(slog.New(slog.DiscardHandler), Mail{Account: "work", OpenWith: "gmail", MessageID: "<a b;c@example.org>"})
	if s := wait(t, got); s != "https://mail.google.com/mail/u/0/#search/rfc822msgid:a+b%3Bc%40example.org|" {
		t.Errorf("opener got %q", s)
	}
}
