package setup

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mailsneaker/accounts"
	"mailsneaker/autoconfig"
	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
)

// The real poller and keychain fit the page's interfaces.
var (
	_ Engine  = (*poller.Manager)(nil)
	_ Secrets = (*accounts.Keychain)(nil)
)

const chromium = "/usr/lib/chromium/chromium"

// browser starts a headless Chromium with the flags that work on a closed,
// headless machine as root (see the recipes), closed in t.Cleanup.
func browser(t *testing.T) context.Context {
	t.Helper()
	testenv.Need(t, "Chromium", chromium)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(820, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// tab opens a new tab with a deadline.
func tab(t *testing.T, bctx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

// keychainDesktop gives the test (and the page it starts) a session bus
// with gnome-keyring on it, and config and runtime dirs of its own.
func keychainDesktop(t *testing.T) {
	t.Helper()
	addr := testenv.SessionBus(t, false)
	testenv.GnomeKeyring(t, addr)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
}

// pageHTML is the HTML of the page in the tab ctx.
func pageHTML(t *testing.T, ctx context.Context) string {
	t.Helper()
	h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// stripSTARTTLS is a TCP proxy to addr that removes STARTTLS from every
// line the server sends, as a man in the middle would.
func stripSTARTTLS(t *testing.T, addr string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				defer c.Close()
				br := bufio.NewReader(s)
				for {
					line, err := br.ReadBytes('\n')
					c.Write(bytes.ReplaceAll(line, []byte(" STARTTLS"), nil))
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestBrowserAddAccount(t *testing.T) {
	bctx := browser(t)
	d := testenv.StartDovecot(t)
	user, pass := d.AddUser(t)
	for i := range 3 {
		d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", fmt.Sprintf("hello %d", i), "body"))
	}
	keychainDesktop(t)
	email := user + "@example.test"

	// The provider's autoconfig file points at Dovecot's IMAPS port.
	ac := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("emailaddress") != email {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<clientConfig version="1.1"><emailProvider id="example.test"><domain>example.test</domain>
<incomingServer type="imap"><hostname>127.0.0.1</hostname><port>%d</port><socketType>SSL</socketType>
<username>%%EMAILLOCALPART%%</username><authentication>password-cleartext</authentication></incomingServer>
</emailProvider></clientConfig>`, d.IMAPS)
	}))
	defer ac.Close()
	kc := &accounts.Keychain{Service: "mailsneaker-setup-test"}
	start := func(t *testing.T) (*Server, *fakeEngine) {
		eng := &fakeEngine{}
		s, err := Start(context.Background(), Options{
			Secrets: kc, Engine: eng,
			// The test's own provider is on loopback, which the default
			// client refuses; its own client reaches it.
			Autoconfig: &autoconfig.Options{URLs: []string{ac.URL + "/mail/config-v1.1.xml?emailaddress={email}"}, NoSRV: true, HTTPClient: ac.Client()},
			Poller:     &poller.Options{Timeout: 10 * time.Second},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, eng
	}
	// fill opens the page, types the address and password, lets autoconfig
	// fill the rest and adds caFile in the manual settings.
	fill := func(ctx context.Context, s *Server, password, caFile string) error {
		// As the tray does: the browser opens the launch file.
		file, err := s.launchFile("")
		if err != nil {
			return err
		}
		steps := []chromedp.Action[chromedp.Void]{
			chromedp.Navigate("file://" + file),
			chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.ID("continue")),
			chromedp.WaitVisible(chromedp.ID("found")),
			chromedp.Click(chromedp.ID("manual-toggle")),
			chromedp.WaitVisible(chromedp.ID("ca_file")),
		}
		if caFile != "" {
			steps = append(steps, chromedp.SendKeys(chromedp.ID("ca_file"), caFile))
		}
		return chromedp.Do(ctx, steps...)
	}
	testResult := func(ctx context.Context) (string, error) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("test")), chromedp.WaitVisible(chromedp.ID("result"))); err != nil {
			return "", err
		}
		return chromedp.Run(ctx, chromedp.Text(chromedp.ID("result")))
	}
	html := pageHTML

	t.Run("save", func(t *testing.T) {
		s, eng := start(t)
		ctx := tab(t, bctx)
		if err := fill(ctx, s, pass, d.CAFile); err != nil {
			t.Fatalf("fill form: %v", err)
		}
		host, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("host")))
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("autoconfig host = %q, %v", host, err)
		}
		got, err := testResult(ctx)
		if err != nil {
			t.Fatalf("test connection: %v", err)
		}
		if !strings.Contains(got, "Connected — 3 messages, 3 unread") {
			t.Fatalf("result %q", got)
		}
		if h := html(t, ctx); strings.Contains(h, pass) {
			t.Fatalf("page after the test shows the password:\n%s", h)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("manual-toggle")), chromedp.WaitVisible(chromedp.ID("folders"))); err != nil {
			t.Fatalf("open manual settings: %v", err)
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		// MAILSNEAKER_SCREENSHOT_DIR=docs keeps the README's picture of the page.
		if dir := os.Getenv("MAILSNEAKER_SCREENSHOT_DIR"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, "setup-page.png"), shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("done"))); err != nil {
			t.Fatalf("save: %v", err)
		}
		if h := html(t, ctx); strings.Contains(h, pass) || !strings.Contains(h, "is saved") {
			t.Fatalf("saved page:\n%s", h)
		}
		waitDone(t, s)
		path, _ := accounts.DefaultConfigPath()
		cfg, err := accounts.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		a, ok := cfg.Account(email)
		if !ok || a.Host != "127.0.0.1" || a.Port != d.IMAPS || a.Username != user || a.CAFile != d.CAFile || a.Security != accounts.TLS {
			t.Fatalf("config: %+v", cfg.Accounts)
		}
		if raw, _ := os.ReadFile(path); bytes.Contains(raw, []byte(pass)) {
			t.Fatal("config file holds the password")
		}
		if pw, err := kc.Get(context.Background(), email); pw != pass || err != nil {
			t.Errorf("keychain: %q, %v", pw, err)
		}
		if got, n := eng.last(); n != 1 || len(got) != 1 || got[0].Name != email || got[0].CAFile != d.CAFile {
			t.Errorf("engine got %d calls, last %+v", n, got)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		s, _ := start(t)
		ctx := tab(t, bctx)
		if err := fill(ctx, s, "not-the-pass-42", d.CAFile); err != nil {
			t.Fatal(err)
		}
		got, err := testResult(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "Login refused by 127.0.0.1") {
			t.Errorf("result %q", got)
		}
		if h := html(t, ctx); strings.Contains(h, "not-the-pass-42") {
			t.Error("page shows the password after a failed test")
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		s, _ := start(t)
		ctx := tab(t, bctx)
		if err := fill(ctx, s, pass, ""); err != nil {
			t.Fatal(err)
		}
		got, err := testResult(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("Certificate of 127.0.0.1:%d is self-signed", d.IMAPS)
		if !strings.Contains(got, want) || !strings.Contains(got, "ca_file") {
			t.Errorf("result %q, want %q", got, want)
		}
	})

	t.Run("STARTTLS stripped", func(t *testing.T) {
		port := stripSTARTTLS(t, d.Addr(d.IMAP))
		s, _ := start(t)
		ctx := tab(t, bctx)
		file, err := s.launchFile("")
		if err != nil {
			t.Fatal(err)
		}
		err = chromedp.Do(ctx,
			chromedp.Navigate("file://"+file),
			chromedp.WaitVisible(chromedp.ID("manual-link")),
			chromedp.Click(chromedp.ID("manual-link")),
			chromedp.WaitVisible(chromedp.ID("host")),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), pass),
			chromedp.SendKeys(chromedp.ID("name"), "mitm"),
			chromedp.SendKeys(chromedp.ID("host"), "127.0.0.1"),
			chromedp.SetValue(chromedp.ID("port"), fmt.Sprint(port)),
			chromedp.SetValue(chromedp.ID("security"), "starttls"),
			chromedp.SendKeys(chromedp.ID("username"), user),
			chromedp.SendKeys(chromedp.ID("ca_file"), d.CAFile),
		)
		if err != nil {
			t.Fatal(err)
		}
		got, err := testResult(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "does not offer STARTTLS") {
			t.Errorf("result %q", got)
		}
	})
}

// TestBrowserSendsNoSecretToOtherPorts opens the page as the tray does and
// then, from the page, goes to another server on 127.0.0.1: cookies ignore
// ports and a Referer carries the path, so that server (any local user's)
// must see neither the session nor the launch token.
func TestBrowserSendsNoSecretToOtherPorts(t *testing.T) {
	bctx := browser(t)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	s, err := Start(context.Background(), Options{ConfigPath: filepath.Join(t.TempDir(), "config.toml"), Secrets: &fakeSecrets{m: map[string]string{}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	got := make(chan []byte, 4)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dump, _ := httputil.DumpRequest(r, true)
		got <- dump
		io.WriteString(w, "<!doctype html><title>other</title><p id=other>other")
	}))
	defer other.Close()

	file, err := s.launchFile("accounts")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(raw), launchPath)
	tok, _, _ := strings.Cut(rest, `"`)
	session := strings.TrimPrefix(s.prefix, "/s/")

	ctx := tab(t, bctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.ID("accounts-link"))); err != nil {
		t.Fatalf("open the launch file: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != "http://"+s.host+s.prefix+"/accounts" {
		t.Fatalf("page at %q, %v", loc, err)
	}
	// The page itself leaves for the other port, as a link would.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(location.href = %q, true)`, other.URL+"/probe"))); err != nil {
		t.Fatal(err)
	}
	var dump []byte
	select {
	case dump = <-got:
	case <-ctx.Done():
		t.Fatal("the other server saw no request")
	}
	if len(tok) < 40 || len(session) < 40 {
		t.Fatalf("token %d, session %d chars: test broken", len(tok), len(session))
	}
	for name, secret := range map[string]string{"launch token": tok, "session": session} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("the other port got the %s:\n%s", name, redact(string(dump), tok, session))
		}
	}
	if bytes.Contains(dump, []byte("\nCookie:")) || bytes.Contains(dump, []byte("\nReferer:")) {
		t.Errorf("the other port got a cookie or a Referer:\n%s", redact(string(dump), tok, session))
	}
}
