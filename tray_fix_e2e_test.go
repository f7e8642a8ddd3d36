//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
	"mailsneaker/internal/trayhost"
)

// fakeBrowser puts an xdg-open first in env's PATH that hands the target
// it is given to the returned channel.
func fakeBrowser(t *testing.T, c *cliEnv) <-chan string {
	t.Helper()
	bin, fifo := t.TempDir(), filepath.Join(t.TempDir(), "opened")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" > '" + fifo + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	c.env = append(c.env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	// Opened read-write, the FIFO never blocks the test's cleanup, and a
	// reader is always there for the opener.
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	opened := make(chan string, 1)
	go func() {
		// Every target is read, so that no opener (a click repeated by
		// clickOpens) blocks the tray; the first is kept.
		br := bufio.NewReader(f)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			select {
			case opened <- strings.TrimSuffix(line, "\n"):
			default:
			}
		}
	}()
	return opened
}

// clickOpens clicks line in the whole menu that ok accepts until the fake
// browser is given a target, and returns it. A click can be lost: a menu
// rebuilt under the host (a retry of a failing account, new mail) has new
// item ids, and a click on an old one goes nowhere, as it would for a user.
func clickOpens(t *testing.T, item *trayhost.Item, ok func(trayhost.Menu) bool, line string, opened <-chan string) string {
	t.Helper()
	deadline := time.After(2 * trayhost.Timeout)
	for {
		m := item.WaitMenu(t, "a menu with "+line, func(m trayhost.Menu) bool { return ok(m) && whole(m) })
		item.Click(t, m, line)
		select {
		case u := <-opened:
			return u
		case <-time.After(5 * time.Second): // then the click was lost; click again
		case <-deadline:
			t.Fatal("the tray opened nothing in the browser")
		}
	}
}

// visit plays the browser on the launch file at fileURL: it follows the
// single-use link and returns the page's origin, its path and its HTML.
func visit(t *testing.T, fileURL string) (origin, path, html string) {
	t.Helper()
	u, err := url.Parse(fileURL)
	if err != nil || u.Scheme != "file" {
		t.Fatalf("the browser was given %q, want a file: URL", fileURL)
	}
	b, err := os.ReadFile(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), `content="0;url=`)
	target, _, _ := strings.Cut(rest, `"`)
	if !ok {
		t.Fatal("the launch file holds no link")
	}
	hc := &http.Client{Timeout: trayhost.Timeout, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		path = r.URL.RequestURI()
		return nil
	}}
	resp, err := hc.Get(target)
	if err != nil {
		t.Fatal("following the launch link failed") // the error holds the secret
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the page answered %s", resp.Status)
	}
	tu, _ := url.Parse(target)
	return "http://" + tu.Host, path, string(page)
}

// postAccount posts form to /account of the page's session, as the
// browser on the page at origin+path (the session's edit page) does, and
// returns the answer.
func postAccount(t *testing.T, origin, path string, form url.Values) string {
	t.Helper()
	req, _ := http.NewRequest("POST", origin+path[:strings.Index(path, "/edit")]+"/account", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal("posting the form failed") // the error holds the session
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// saveAccount posts form (action save) as postAccount does and fails the
// test unless the page says the account is saved.
func saveAccount(t *testing.T, origin, path string, form url.Values) {
	t.Helper()
	if saved := postAccount(t, origin, path, form); !strings.Contains(saved, `id="done"`) {
		t.Fatalf("not saved:\n%s", saved)
	}
}

// accountBack waits, after a fix was saved on the page, for the account's
// line to be line again in a whole menu, and fails the test if the
// healthy account's submenu has no "Edit account…" or the tray restarted
// (the fix must take effect in the running tray).
func accountBack(t *testing.T, item *trayhost.Item, tray *trayProc, line string) trayhost.Menu {
	t.Helper()
	start := time.Now()
	m := item.WaitMenu(t, "the account back", func(m trayhost.Menu) bool { return len(m.Under(line)) > 0 && whole(m) })
	t.Logf("the account was back %v after the save", time.Since(start).Round(time.Millisecond))
	if _, ok := m.Find("  Edit account…"); !ok {
		t.Errorf("no Edit account… in the healthy account's submenu:\n%s", m)
	}
	select {
	case <-tray.exited:
		t.Fatal("the tray restarted")
	default:
	}
	return m
}

// whole reports whether m is a whole menu, not the first part of one
// read while the tray rebuilt it.
func whole(m trayhost.Menu) bool { return len(m) > 0 && m[len(m)-1].Line == "Quit" }

var failedAt = regexp.MustCompile(`(?m)^( *)Failed at \d\d:\d\d( — (next try \d\d:\d\d|retrying in \d+ s))? \[-\]$`)

// TestTrayLeadsToTheFix: a wrong password in the keychain shows, in the
// real tray, a plain line and "Change password…"; the click opens the
// account's page, password focused, in the browser (a fake that records
// the URL); a corrected password saved there brings the account back
// without a restart.
func TestTrayLeadsToTheFix(t *testing.T) {
	d := testenv.StartDovecot(t)
	addr := testenv.SessionBus(t, false)
	testenv.GnomeKeyring(t, addr)
	h, c := trayDesktop(t, addr)
	opened := fakeBrowser(t, c)
	user, pw := d.AddUser(t)
	if out, errOut, code := c.run("not-"+pw+"\n", "account", "add", "--name", "work", "--protocol", "imap",
		"--host", "127.0.0.1", "--port", fmt.Sprint(d.IMAPS), "--security", "tls", "--username", user,
		"--ca-file", d.CAFile, "--password-stdin", "--no-verify"); code != 0 {
		t.Fatalf("account add: exit %d\n%s%s", code, out, errOut)
	}

	tray := startTray(t, c)
	item := h.WaitItem(t, tray.exited)
	m := item.WaitMenu(t, "the refused login", func(m trayhost.Menu) bool {
		return len(m.Under("work — login refused")) > 0 && whole(m)
	})
	got := failedAt.ReplaceAllString(m.String(), "${1}Failed at … — next try … [-]")
	want := `No new mail · 1 account needs attention [-]
work — login refused
  Wrong password, or the server refused the login [-]
  Server: Authentication failed. [-]
  Change password…
  ---
  Failed at … — next try … [-]
  Check now
  Mark read [-]
  Mark read on server [-]
`
	if !strings.HasPrefix(got, want) {
		t.Errorf("menu:\n%s\nwant it to start with:\n%s", got, want)
	}
	p := item.WaitProps(t, "the tooltip of the refused login", func(p trayhost.Props) bool {
		return strings.HasPrefix(p.Tooltip, "No new mail · 1 account needs attention\n")
	})
	if want := "No new mail · 1 account needs attention\nwork: login refused"; p.Tooltip != want {
		t.Errorf("tooltip %q, want %q", p.Tooltip, want)
	}
	for _, e := range m {
		if n := len([]rune(e.Label)); n > 80 {
			t.Errorf("label of %d runes: %q", n, e.Label)
		}
	}

	refused := func(m trayhost.Menu) bool { return len(m.Under("work — login refused")) > 0 }
	origin, path, html := visit(t, clickOpens(t, item, refused, "  Change password…", opened))
	if _, rest, _ := strings.Cut(path, "/s/"); !strings.HasSuffix(rest, "/edit?focus=password&name=work") {
		t.Errorf("the browser opened %q (session left out), want the edit page of work, password focused", "/s/…/"+path[strings.LastIndex(path, "/")+1:])
	}
	if !strings.Contains(html, `<title>Edit work — MailSneaker</title>`) || !strings.Contains(html, `type="password" autocomplete="current-password" autofocus`) {
		t.Errorf("the page is not work's with the password focused:\n%s", html)
	}

	// The user types the right password and saves.
	form := url.Values{"mode": {"edit"}, "orig": {"work"}, "name": {"work"}, "protocol": {"imap"},
		"host": {"127.0.0.1"}, "port": {fmt.Sprint(d.IMAPS)}, "security": {"tls"}, "username": {user},
		"folders": {"INBOX"}, "ca_file": {d.CAFile}, "password": {pw}, "action": {"save"}}
	saveAccount(t, origin, path, form)
	m = accountBack(t, item, tray, "work — no new mail")
	if want := "No new mail [-]\nwork — no new mail\n"; !strings.HasPrefix(m.String(), want) {
		t.Errorf("menu after the fix:\n%s", m)
	}
	tray.stop(t)
}

// TestDemoTroubleFix: what the README promises of `demo --trouble`: "work"
// has a wrong password and "old-isp" no server; Change password… opens
// the page, and demo-password saved there brings "work" back.
func TestDemoTroubleFix(t *testing.T) {
	addr := testenv.SessionBus(t, false)
	h, c := trayDesktop(t, addr)
	opened := fakeBrowser(t, c)
	tray := startTray(t, c, "demo", "--trouble")
	item := h.WaitItem(t, tray.exited)
	m := item.WaitMenu(t, "both failing accounts", func(m trayhost.Menu) bool {
		return len(m.Under("work — login refused")) > 0 && len(m.Under("old-isp — server unreachable")) > 0 && whole(m)
	})
	if _, ok := m.Find("  Server not reachable — are you offline? [-]"); !ok {
		t.Errorf("old-isp's submenu does not say it is unreachable:\n%s", m)
	}
	refused := func(m trayhost.Menu) bool { return len(m.Under("work — login refused")) > 0 }
	origin, path, html := visit(t, clickOpens(t, item, refused, "  Change password…", opened))
	if !strings.HasSuffix(path, "/edit?focus=password&name=work") || !strings.Contains(html, "autofocus") {
		t.Fatalf("the demo opened %q", path[strings.LastIndex(path, "/"):])
	}
	form := url.Values{"mode": {"edit"}, "orig": {"work"}, "name": {"work"}, "protocol": {"imap"},
		"host": {inputValue(t, html, "host")}, "port": {inputValue(t, html, "port")}, "security": {"tls"},
		"username": {inputValue(t, html, "username")}, "folders": {"INBOX"}, "ca_file": {inputValue(t, html, "ca_file")},
		"password": {"demo-password"}, "action": {"save"}}
	saveAccount(t, origin, path, form)
	item.WaitMenu(t, "work back", func(m trayhost.Menu) bool {
		for _, e := range m {
			if e.Depth == 0 && strings.HasPrefix(e.Label, "work — ") && !strings.Contains(e.Label, "refused") {
				return whole(m)
			}
		}
		return false
	})
	tray.stop(t)
}

// inputValue is the value of the input with id name in html.
func inputValue(t *testing.T, html, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(html, `id="`+name+`" name="`+name+`" value="`)
	v, _, _ := strings.Cut(rest, `"`)
	if !ok {
		t.Fatalf("the page has no input %s", name)
	}
	return v
}
