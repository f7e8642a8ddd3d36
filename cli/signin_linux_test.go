package cli

import (
	"context"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAccountAddSignIn: `account add --sign-in` opens the Add account
// page in the browser (through a launch file, no secret in argv), serves
// it, and when the page is left without Save it says no account was added
// and exits 1. Before, account add had no way at all to an oauth2 account.
func TestAccountAddSignIn(t *testing.T) {
	bin := t.TempDir()
	opened := filepath.Join(bin, "opened")
	if err := syscall.Mkfifo(opened, 0o600); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s' \"$1\" > '" + opened + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())

	e, stderr := testEnv(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- Account(ctx, e, []string{"add", "--sign-in"}) }()

	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(opened) // blocks until xdg-open writes
		got <- string(b)
	}()
	var file string
	select {
	case file = <-got:
	case c := <-code:
		t.Fatalf("account add --sign-in returned %d before opening a page: %s", c, stderr)
	case <-time.After(20 * time.Second):
		t.Fatal("no page was opened")
	}
	if !strings.HasPrefix(file, "file://") || strings.Contains(file, "127.0.0.1") {
		t.Fatalf("the opener got %q, want a launch file (no link in argv)", file)
	}
	text, err := os.ReadFile(strings.TrimPrefix(file, "file://"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`url=([^"]+)"`).FindStringSubmatch(string(text))
	if m == nil {
		t.Fatalf("launch file without a link: %s", text)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Add a mail account") {
		t.Fatalf("the page answered %s:\n%s", resp.Status, body)
	}

	cancel()
	select {
	case c := <-code:
		if c != ExitFailed || !strings.Contains(stderr.String(), "no account was added") {
			t.Fatalf("exit %d, stderr %q; want %d saying no account was added", c, stderr, ExitFailed)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("account add --sign-in did not return after the page was left")
	}
}

// TestAccountAddSignInTakesNoOtherFlag: --sign-in with the flags of a
// password account is a usage error, not a half-made account.
func TestAccountAddSignInTakesNoOtherFlag(t *testing.T) {
	e, stderr := testEnv(t, t.TempDir())
	if c := Account(context.Background(), e, []string{"add", "--sign-in", "--name", "x"}); c != ExitUsage || !strings.Contains(stderr.String(), "--sign-in takes no other flag") {
		t.Fatalf("exit %d, stderr %q", c, stderr)
	}
}
