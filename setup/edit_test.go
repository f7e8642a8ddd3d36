package setup

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
)

// CheckNow records, beside SetAccounts, which accounts the page asked to
// check at once.
func (e *fakeEngine) CheckNow(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.checks = append(e.checks, name)
	return nil
}

func (e *fakeEngine) checked() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.checks...)
}

// openLaunched redeems the launch file a recording launcher opened and
// returns the page's path (after the session) and its HTML.
func openLaunched(t *testing.T, l *Launcher, file string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), `content="0;url=`)
	target, _, _ := strings.Cut(rest, `"`)
	target = strings.ReplaceAll(target, "&amp;", "&")
	var path string
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			path = r.URL.RequestURI()
			return nil
		}}
	resp, err := hc.Get(target)
	if err != nil {
		t.Fatalf("GET of the launch URL: %s", show(l.srv, err.Error())) // no secret in the output
	}
	defer resp.Body.Close()
	html, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", show(l.srv, path), resp.Status)
	}
	return strings.TrimPrefix(path, l.srv.prefix), string(html)
}

func writeAccount(t *testing.T, path string, a accounts.Account) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := accounts.AddAccount(path, a); err != nil {
		t.Fatal(err)
	}
}

// TestLauncherEditFocusesPassword: "Change password…" opens the page of
// that account with the cursor in the password field and the whole error
// on top; "Edit account…" of a healthy account opens it plainly.
func TestLauncherEditFocusesPassword(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	writeAccount(t, cfg, accounts.Account{Name: "work & play", Protocol: accounts.IMAP, Host: "imap.example.test", Username: "ann"})
	l, opened, notices := recordingLauncher(t, Options{ConfigPath: cfg}, false)
	l.Edit("work & play", &poller.CheckError{Kind: poller.KindAuth, Msg: "login refused by imap.example.test: check the password",
		Err: &poller.ServerReply{Text: "[AUTH] Authentication failed."}})
	if len(*opened) != 1 || len(*notices) != 0 {
		t.Fatalf("opened %q, notices %q", *opened, *notices)
	}
	path, html := openLaunched(t, l, (*opened)[0])
	if want := "/edit?focus=password&name=work+%26+play"; path != want {
		t.Errorf("the page opened is %q, want %q", path, want)
	}
	for _, want := range []string{
		"<title>Edit work &amp; play — MailSneaker</title>",
		`id="password" name="password" type="password" autocomplete="current-password" autofocus`,
		"The last check failed: Login refused by imap.example.test: check the password",
		"[AUTH] Authentication failed.",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q:\n%s", want, html)
		}
	}
	if strings.Count(html, "autofocus") != 1 {
		t.Errorf("%d autofocus attributes, want the password's only", strings.Count(html, "autofocus"))
	}

	// Fixed meanwhile: the next Edit shows no stale error and no focus.
	l.Edit("work & play", nil)
	path, html = openLaunched(t, l, (*opened)[1])
	if path != "/edit?name=work+%26+play" || strings.Contains(html, "autofocus") || strings.Contains(html, `id="problem"`) {
		t.Errorf("Edit without a problem opened %q:\n%s", path, html)
	}
}

// tlsServer accepts TLS connections with cert and then closes them: a
// server whose certificate no one trusts.
func tlsServer(t *testing.T, cert *testenv.Cert) int {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cert.Server)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var parts []string
	for _, b := range sum {
		parts = append(parts, fmt.Sprintf("%02X", b))
	}
	return strings.Join(parts, ":")
}

// checkCertShown checks that html describes cert and says how to trust it
// with ca_file, and offers nothing that would skip verification.
func checkCertShown(t *testing.T, what, html string, cert *testenv.Cert) {
	t.Helper()
	for _, want := range []string{
		`id="cert-subject">` + cert.X509.Subject.String(),
		`id="cert-issuer">` + cert.X509.Issuer.String() + " (self-signed)",
		`id="cert-sha256">` + fingerprint(cert.X509.Raw),
		"<code>ca_file</code>", "save this certificate",
		`id="cert-fetch">openssl s_client -showcerts -connect 127.0.0.1:`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("%s: the page lacks %q:\n%s", what, want, html)
		}
	}
	low := strings.ToLower(html)
	for _, bad := range []string{"insecure", "skip", "ignore", "accept the certificate", "trust anyway", "verify=false"} {
		if strings.Contains(low, bad) {
			t.Errorf("%s: the page offers %q", what, bad)
		}
	}
}

// TestCertificateProblemShown: a server certificate that is not trusted
// is described (subject, issuer, SHA-256) with how to trust it through
// ca_file, on the page the tray opens and after Test connection, through
// the real checker.
func TestCertificateProblemShown(t *testing.T) {
	cert := testenv.SelfSigned(t, time.Time{}, time.Time{})
	port := tlsServer(t, cert)
	a := accounts.Account{Name: "self", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: port, Security: accounts.TLS, Username: "ann"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := poller.Verify(ctx, a.WithDefaults(), &poller.Options{Password: func(context.Context) (string, error) { return "x", nil }})
	var ce *poller.CheckError
	if !errors.As(err, &ce) || ce.Kind != poller.KindTLS || ce.Certificate() == nil {
		t.Fatalf("Verify against an untrusted certificate: %v", err)
	}

	cfg := filepath.Join(t.TempDir(), "config.toml")
	writeAccount(t, cfg, a)
	l, opened, _ := recordingLauncher(t, Options{ConfigPath: cfg}, false)
	l.Edit("self", ce)
	path, html := openLaunched(t, l, (*opened)[0])
	if path != "/edit?name=self" || strings.Contains(html, "autofocus") {
		t.Errorf("a certificate problem opened %q (focus: %v)", path, strings.Contains(html, "autofocus"))
	}
	checkCertShown(t, "the edit page", html, cert)

	c, _, _ := newServer(t, Options{ConfigPath: cfg, Verify: poller.Verify})
	got := c.page("POST", "/account", url.Values{"mode": {"edit"}, "orig": {"self"}, "name": {"self"},
		"protocol": {"imap"}, "host": {"127.0.0.1"}, "port": {fmt.Sprint(port)}, "security": {"tls"},
		"username": {"ann"}, "folders": {"INBOX"}, "password": {"x"}, "action": {"test"}})
	checkCertShown(t, "the test result", got, cert)
}

// TestSavedEditChecksNow: saving an edit (a new password changes no
// setting) asks the engine to check the account at once, rather than at
// the end of a backoff minutes away.
func TestSavedEditChecksNow(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	writeAccount(t, cfg, accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: "imap.example.test", Username: "ann"})
	c, sec, eng := newServer(t, Options{ConfigPath: cfg})
	got := c.page("POST", "/account", url.Values{"mode": {"edit"}, "orig": {"work"}, "name": {"work"},
		"protocol": {"imap"}, "host": {"imap.example.test"}, "port": {""}, "security": {"tls"},
		"username": {"ann"}, "folders": {"INBOX"}, "password": {"right"}, "action": {"save"}})
	if !strings.Contains(got, `id="done"`) {
		t.Fatalf("not saved:\n%s", got)
	}
	if pw, _ := sec.Get(context.Background(), "work"); pw != "right" {
		t.Errorf("keychain holds %q", pw)
	}
	if got := eng.checked(); len(got) != 1 || got[0] != "work" {
		t.Errorf("CheckNow calls %q, want work once", got)
	}
}
