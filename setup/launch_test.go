package setup

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLaunchFileIsPrivate(t *testing.T) {
	c, _, _ := newServer(t, Options{})
	target, file := launchURL(t, c.s, "accounts")
	tok := strings.TrimPrefix(target, c.origin+launchPath)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	di, err := os.Stat(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && (fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700) {
		t.Errorf("file %v, dir %v; want 0600 in 0700", fi.Mode(), di.Mode())
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); filepath.Dir(file) != filepath.Join(dir, "mailsneaker") {
		t.Errorf("file %s is not in the runtime dir %s", file, dir)
	}
	if strings.Contains(file, tok) || len(tok) < 40 {
		t.Errorf("file name %s, token %d chars", file, len(tok))
	}
	resp := c.do("GET", target, nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != c.s.prefix+"/accounts" {
		t.Fatalf("redeem: %s, Location %q", resp.Status, show(c.s, resp.Header.Get("Location")))
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("launch file kept after the token was redeemed")
	}
}

func TestLaunchTokenSingleUse(t *testing.T) {
	c, _, _ := newServer(t, Options{})
	first, _ := launchURL(t, c.s, "")
	second, _ := launchURL(t, c.s, "accounts")
	if resp := c.do("GET", first, nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %s", resp.Status)
	}
	if resp := c.do("GET", first, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("second use: %s, want 403", resp.Status)
	}
	// Each click in the tray has its own token; spending one leaves the other.
	if resp := c.do("GET", second, nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the other token: %s", resp.Status)
	}
}

func TestLaunchTokenExpires(t *testing.T) {
	c, _, _ := newServer(t, Options{})
	target, file := launchURL(t, c.s, "")
	c.s.lmu.Lock()
	c.s.now = func() time.Time { return time.Now().Add(LaunchTTL + time.Second) }
	c.s.lmu.Unlock()
	if resp := c.do("GET", target, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("expired token: %s, want 403", resp.Status)
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("launch file kept after the token expired")
	}
	c.s.lmu.Lock()
	c.s.now = time.Now
	c.s.lmu.Unlock()
	// A refused expired token is spent too.
	if resp := c.do("GET", target, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("expired token again: %s, want 403", resp.Status)
	}

	// Nobody uses it: the file goes by itself when the token expires.
	c.s.launchTTL = 50 * time.Millisecond
	target, file = launchURL(t, c.s, "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(file); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("launch file not removed after the token expired")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp := c.do("GET", target, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("expired token: %s, want 403", resp.Status)
	}
}

// recordingLauncher is a Launcher whose browser records what it is given;
// fail makes it fail like a machine without a browser.
func recordingLauncher(t *testing.T, o Options, fail bool) (*Launcher, *[]string, *[]string) {
	t.Helper()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if o.ConfigPath == "" {
		o.ConfigPath = filepath.Join(t.TempDir(), "config.toml")
	}
	if o.Secrets == nil {
		o.Secrets = &fakeSecrets{m: map[string]string{}}
	}
	var opened, notices []string
	l := NewLauncher(context.Background(), o, func(s string) { notices = append(notices, s) })
	l.open = func(path string) error {
		opened = append(opened, path)
		if fail {
			return &os.PathError{Op: "exec", Path: "xdg-open", Err: os.ErrNotExist}
		}
		return nil
	}
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.srv != nil {
			l.srv.Close()
		}
	})
	return l, &opened, &notices
}

func TestLauncherRestartsAfterStop(t *testing.T) {
	l, opened, notices := recordingLauncher(t, Options{}, false)
	l.Add()
	first := l.srv
	l.Accounts()
	if l.srv != first || len(*opened) != 2 || (*opened)[0] == (*opened)[1] {
		t.Fatalf("second click: server %p→%p, opened %q", first, l.srv, *opened)
	}
	first.Close()
	l.Accounts()
	if l.srv == first || len(*opened) != 3 {
		t.Fatalf("after stop: same server %v, opened %q", l.srv == first, *opened)
	}
	if len(*notices) > 0 {
		t.Errorf("notices %q", *notices)
	}
}

// TestNoSecretInLogs goes through a launch without a browser, a redeem and
// a page, with the log at Debug, and looks for the token and the session in
// every line and notice.
func TestNoSecretInLogs(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, opened, notices := recordingLauncher(t, Options{Logger: log}, true)
	l.Add()
	if len(*opened) != 1 || len(*notices) != 1 {
		t.Fatalf("opened %q, notices %q", *opened, *notices)
	}
	file := (*opened)[0]
	if want := "open " + file + " in a browser within 2 minutes"; !strings.HasPrefix((*notices)[0], want) {
		t.Errorf("notice %q, want %q…", (*notices)[0], want)
	}
	c := &client{t: t, s: l.srv, origin: "http://" + l.srv.host}
	target, _ := launchURL(t, l.srv, "")
	tok := strings.TrimPrefix(target, c.origin+launchPath)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), launchPath)
	fileTok, _, _ := strings.Cut(rest, `"`)
	resp := c.do("GET", target, nil, nil)
	c.base = c.origin + strings.TrimSuffix(resp.Header.Get("Location"), "/")
	session := strings.TrimPrefix(l.srv.prefix, "/s/")
	c.page("GET", "/accounts", nil)
	// Refusals log too: a spent token, a wrong session, a wrong method.
	c.do("GET", target, nil, nil)
	c.do("GET", c.origin+"/s/"+session+"x/", nil, nil)
	c.do("PUT", "/accounts", nil, nil)
	c.do("POST", "/cancel", nil, map[string]string{"Origin": "http://evil.example"})
	c.page("POST", "/cancel", nil)
	waitDone(t, l.srv)
	if !strings.Contains(logs.String(), "refused") {
		t.Fatalf("the refusals were not logged:\n%s", logs.String())
	}
	for _, secret := range []string{tok, fileTok, session} {
		if len(secret) < 40 {
			t.Fatalf("secret %q too short: test broken", secret)
		}
		if strings.Contains(logs.String(), secret) || strings.Contains(strings.Join(*notices, "\n"), secret) {
			t.Errorf("a secret is in the log or a notice:\n%s\n%s", redact(logs.String(), tok, fileTok, session),
				redact(strings.Join(*notices, "\n"), tok, fileTok, session))
		}
	}
}

// redact hides secrets in what a failing test prints.
func redact(s string, secrets ...string) string {
	for _, x := range secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "<secret>")
		}
	}
	return s
}
