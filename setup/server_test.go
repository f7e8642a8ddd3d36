package setup

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/autoconfig"
	"mailsneaker/poller"
)

// fakeSecrets is a keychain in memory; fail makes Set fail like a missing
// Secret Service.
type fakeSecrets struct {
	mu   sync.Mutex
	m    map[string]string
	fail error
}

func (f *fakeSecrets) Get(_ context.Context, user string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pw, ok := f.m[user]
	if !ok {
		return "", &accounts.KeychainError{Op: "get", Account: user, Kind: accounts.ErrNoPassword}
	}
	return pw, nil
}

func (f *fakeSecrets) Set(_ context.Context, user, pw string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.m[user] = pw
	return nil
}

func (f *fakeSecrets) Delete(_ context.Context, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[user]; !ok {
		return &accounts.KeychainError{Op: "delete", Account: user, Kind: accounts.ErrNoPassword}
	}
	delete(f.m, user)
	return nil
}

// fakeEngine records the account lists the page gave the poller.
type fakeEngine struct {
	mu     sync.Mutex
	sets   [][]accounts.Account
	checks []string // CheckNow's accounts (edit_test.go)
}

func (e *fakeEngine) SetAccounts(_ context.Context, accts []accounts.Account) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sets = append(e.sets, accts)
	return nil
}

// last returns the accounts of the last SetAccounts, and how many calls
// there were.
func (e *fakeEngine) last() ([]accounts.Account, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.sets) == 0 {
		return nil, 0
	}
	return e.sets[len(e.sets)-1], len(e.sets)
}

// client talks to a setup server like the browser that redeemed a launch
// token.
type client struct {
	t      *testing.T
	s      *Server
	origin string // http://127.0.0.1:port
	base   string // origin and the session prefix
}

// newServer starts a setup server whose Verify accepts the password
// "right" and refuses every other.
func newServer(t *testing.T, o Options) (*client, *fakeSecrets, *fakeEngine) {
	t.Helper()
	sec := &fakeSecrets{m: map[string]string{}}
	eng := &fakeEngine{}
	if o.ConfigPath == "" {
		o.ConfigPath = filepath.Join(t.TempDir(), "mailsneaker", "config.toml")
	}
	if o.Secrets == nil {
		o.Secrets = sec
	}
	o.Engine = eng
	if o.Verify == nil {
		o.Verify = func(ctx context.Context, a accounts.Account, po *poller.Options) (*poller.Inbox, error) {
			pw, err := po.Password(ctx)
			if err != nil {
				return nil, err
			}
			if pw != "right" {
				return nil, &poller.CheckError{Kind: poller.KindAuth, Msg: "login refused by " + a.Host + ": check the password"}
			}
			return &poller.Inbox{Messages: 1234, Unread: 5}, nil
		}
	}
	if o.ListFolders == nil {
		o.ListFolders = func(context.Context, accounts.Account, *poller.Options) ([]string, error) {
			return []string{"INBOX", "Lists", "Work"}, nil
		}
	}
	if o.Autoconfig == nil {
		o.Autoconfig = &autoconfig.Options{URLs: []string{}, NoSRV: true}
	}
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &client{t: t, s: s, origin: "http://" + s.host}
	target, _ := launchURL(t, s, "")
	resp := c.do("GET", target, nil, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/s/") || !strings.HasSuffix(loc, "/") {
		t.Fatalf("GET of the launch URL: %s, Location %q", resp.Status, show(s, loc))
	}
	if len(resp.Cookies()) > 0 {
		t.Errorf("cookies: %v", resp.Cookies())
	}
	c.base = c.origin + strings.TrimSuffix(loc, "/")
	return c, sec, eng
}

// show is u without the session secret and launch tokens, for test output.
func show(s *Server, u string) string {
	u = strings.ReplaceAll(u, s.prefix, "/s/<session>")
	if before, _, ok := strings.Cut(u, launchPath); ok {
		u = before + launchPath + "<token>"
	}
	return u
}

// launchURL mints a launch file for page and returns the URL in it and
// the file.
func launchURL(t *testing.T, s *Server, page string) (string, string) {
	t.Helper()
	file, err := s.launchFile(page)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), `content="0;url=`)
	u, _, _ := strings.Cut(rest, `"`)
	if !ok || !strings.HasPrefix(u, "http://"+s.host+launchPath) {
		t.Fatalf("launch file (%d bytes) has no launch URL", len(b))
	}
	return u, file
}

// do sends a request without following redirects; hdr may override Host
// ("Host"), Origin and Referer.
func (c *client) do(method, target string, form url.Values, hdr map[string]string) *http.Response {
	c.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = c.base + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == "POST" {
		req.Header.Set("Origin", c.origin)
	}
	for k, v := range hdr {
		switch {
		case k == "Host":
			req.Host = v
		case v == "":
			req.Header.Del(k)
		default:
			req.Header.Set(k, v)
		}
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, show(c.s, target), err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// page posts or gets and returns the HTML, failing on a status other than 200.
func (c *client) page(method, path string, form url.Values) string {
	c.t.Helper()
	resp := c.do(method, path, form, nil)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s: %s\n%s", method, path, resp.Status, b)
	}
	return string(b)
}

func TestGuardRefusesStrangers(t *testing.T) {
	c, _, _ := newServer(t, Options{})
	if got := c.page("GET", "/", nil); !strings.Contains(got, `id="email"`) {
		t.Fatalf("start page in the session: %s", got)
	}
	if resp := c.do("GET", c.base, nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != c.s.prefix+"/" {
		t.Errorf("session root without slash: %s %q", resp.Status, show(c.s, resp.Header.Get("Location")))
	}
	session := strings.TrimPrefix(c.s.prefix, "/s/")
	launch, _ := launchURL(t, c.s, "")
	port := strings.Split(c.origin, ":")[2]
	good := url.Values{"name": {"x"}}
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
	}{
		{"no session", "GET", c.origin + "/", nil},
		{"no session, a page", "GET", c.origin + "/accounts", nil},
		{"wrong session", "GET", c.origin + "/s/nope/accounts", nil},
		{"longer session", "GET", c.base + "x/accounts", nil},
		{"shorter session", "GET", c.base[:len(c.base)-1] + "/accounts", nil},
		{"session as a query", "GET", c.origin + "/accounts?s=" + session, nil},
		{"session as a cookie", "GET", c.origin + "/accounts", map[string]string{"Cookie": "s=" + session}},
		{"session as a launch token", "GET", c.origin + launchPath + session, nil},
		{"launch token on a POST", "POST", launch, nil},
		{"foreign Host", "GET", "/", map[string]string{"Host": "evil.example:" + port}},
		{"localhost Host", "GET", "/", map[string]string{"Host": "localhost:" + port}},
		{"launch with foreign Host", "GET", launch, map[string]string{"Host": "evil.example:" + port}},
		{"foreign Origin", "POST", "/cancel", map[string]string{"Origin": "http://evil.example"}},
		{"null Origin", "POST", "/remove", map[string]string{"Origin": "null"}},
		{"no Origin nor Referer", "POST", "/cancel", map[string]string{"Origin": ""}},
		{"foreign Referer", "POST", "/cancel", map[string]string{"Origin": "", "Referer": "http://evil.example/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.do(tc.method, tc.path, good, tc.hdr)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %s, want 403", tc.method, show(c.s, tc.path), resp.Status)
			}
		})
	}
	select {
	case <-c.s.Done():
		t.Fatal("a refused cancel stopped the server")
	default:
	}
	// The refused launches did not spend the token.
	if resp := c.do("GET", launch, nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("launch token after refused tries: %s", resp.Status)
	}
	resp := c.do("GET", "/", nil, nil)
	if resp.Header.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("Referrer-Policy %q", resp.Header.Get("Referrer-Policy"))
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers missing: %v", resp.Header)
	}
}

func TestCancelStops(t *testing.T) {
	c, _, _ := newServer(t, Options{})
	// A same-origin POST without Origin but with our Referer is accepted.
	resp := c.do("POST", "/cancel", url.Values{}, map[string]string{"Origin": "", "Referer": c.base + "/"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %s", resp.Status)
	}
	waitDone(t, c.s)
}

func TestIdleTimeoutStops(t *testing.T) {
	c, _, _ := newServer(t, Options{IdleTimeout: 100 * time.Millisecond})
	waitDone(t, c.s)
	if resp, err := http.Get(c.base + "/"); err == nil {
		resp.Body.Close()
		t.Error("server still answers after the idle timeout")
	}
}

func TestContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	s, err := Start(ctx, Options{ConfigPath: filepath.Join(t.TempDir(), "c.toml"), Secrets: &fakeSecrets{}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.host, "127.0.0.1:") {
		t.Errorf("listening on %s", s.host)
	}
	_, file := launchURL(t, s, "")
	cancel()
	waitDone(t, s)
	if _, err := os.Stat(file); err == nil {
		t.Error("the launch file outlived the server")
	}
}

func waitDone(t *testing.T, s *Server) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
}

// autoconfigServer answers every autoconfig request for example.test with
// an IMAPS server.
func autoconfigServer(t *testing.T, host string, port int) *autoconfig.Options {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.test"><domain>example.test</domain>
<incomingServer type="imap"><hostname>`+host+`</hostname><port>`+itoa(port)+`</port><socketType>SSL</socketType>
<username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication></incomingServer>
<incomingServer type="pop3"><hostname>`+host+`</hostname><port>995</port><socketType>SSL</socketType>
<username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication></incomingServer>
</emailProvider></clientConfig>`)
	}))
	t.Cleanup(srv.Close)
	return &autoconfig.Options{URLs: []string{srv.URL + "/mail/config-v1.1.xml?emailaddress={email}"}, NoSRV: true, HTTPClient: srv.Client()}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestAddSaveEditRemove(t *testing.T) {
	c, sec, eng := newServer(t, Options{Autoconfig: autoconfigServer(t, "imap.example.test", 993)})
	const secret = "right"
	var pages []string
	keep := func(html string) string { pages = append(pages, html); return html }

	details := keep(c.page("POST", "/lookup", url.Values{"email": {"ann@example.test"}, "password": {secret}}))
	if !strings.Contains(details, `value="imap.example.test"`) || !strings.Contains(details, `value="ann"`) {
		t.Fatalf("autoconfig did not fill the form:\n%s", details)
	}
	ref := hiddenValue(t, details, "pwref")
	form := url.Values{"mode": {"add"}, "email": {"ann@example.test"}, "name": {"Work"}, "pwref": {ref},
		"protocol": {"imap"}, "host": {"imap.example.test"}, "port": {"993"}, "security": {"tls"},
		"username": {"ann"}, "folders": {"INBOX"}, "action": {"test"}}
	got := keep(c.page("POST", "/account", form))
	if !strings.Contains(got, "Connected — 1,234 messages, 5 unread") {
		t.Fatalf("test result missing:\n%s", got)
	}
	if !strings.Contains(got, `name="folder" value="Work"`) {
		t.Errorf("folder list not shown:\n%s", got)
	}
	if _, err := os.Stat(c.s.path); err == nil {
		t.Fatal("a test wrote the config file")
	}
	// The reference is one-time: the old one is spent, the page has a new one.
	form.Set("action", "save")
	if got := keep(c.page("POST", "/account", form)); !strings.Contains(got, "Type the password") && !strings.Contains(got, "login refused") {
		t.Errorf("a spent password reference still worked:\n%s", got)
	}

	// The keychain fails: nothing is written, the page says why and offers password_command.
	sec.fail = &accounts.KeychainError{Op: "set", Account: "Work", Kind: accounts.ErrNoSecretService}
	form.Set("password", secret)
	form.Del("pwref")
	form.Set("known", "INBOX")
	form.Add("known", "Work")
	form["folder"] = []string{"INBOX", "Work"}
	got = keep(c.page("POST", "/account", form))
	if !strings.Contains(got, `id="keychain"`) || !strings.Contains(got, "No Secret Service is running") || !strings.Contains(got, `id="password_command"`) {
		t.Fatalf("keychain failure not explained:\n%s", got)
	}
	if _, err := os.Stat(c.s.path); err == nil {
		t.Fatal("config written although the keychain failed")
	}
	sec.fail = nil

	// Save: config, keychain and engine.
	form.Set("password", "")
	form.Set("pwref", hiddenValue(t, got, "pwref"))
	got = keep(c.page("POST", "/account", form))
	if !strings.Contains(got, `id="done"`) {
		t.Fatalf("not saved:\n%s", got)
	}
	cfg, err := accounts.Load(c.s.path)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := cfg.Account("Work")
	if !ok || a.Host != "imap.example.test" || a.Username != "ann" || strings.Join(a.Folders, ",") != "INBOX,Work" {
		t.Fatalf("config: %+v", cfg.Accounts)
	}
	if pw, _ := sec.Get(context.Background(), "Work"); pw != secret {
		t.Errorf("keychain holds %q", pw)
	}
	if got, n := eng.last(); n != 1 || len(got) != 1 || got[0].Name != "Work" || got[0].Port != 993 {
		t.Errorf("engine got %d calls, last %+v", n, got)
	}
	waitDone(t, c.s)
	raw, _ := os.ReadFile(c.s.path)
	pages = append(pages, string(raw))
	for i, p := range pages {
		if strings.Contains(p, `"`+secret+`"`) || strings.Contains(p, "="+secret) || strings.Contains(p, ">"+secret) {
			t.Errorf("page %d shows the password:\n%s", i, p)
		}
	}

	// A second launch edits (rename: the keychain entry moves) and removes.
	c2, _, eng2 := newServer(t, Options{ConfigPath: c.s.path, Secrets: sec})
	list := c2.page("GET", "/accounts", nil)
	if !strings.Contains(list, "Work") || !strings.Contains(list, "/edit?name=Work") {
		t.Fatalf("accounts page:\n%s", list)
	}
	edit := c2.page("GET", "/edit?name=Work", nil)
	if !strings.Contains(edit, `value="edit"`) || !strings.Contains(edit, "stored in the keychain") {
		t.Fatalf("edit page:\n%s", edit)
	}
	ef := url.Values{"mode": {"edit"}, "orig": {"Work"}, "name": {"Job"}, "protocol": {"imap"}, "host": {"imap.example.test"},
		"port": {"993"}, "security": {"tls"}, "username": {"ann"}, "folders": {"INBOX"}, "action": {"save"}}
	if got := c2.page("POST", "/account", ef); !strings.Contains(got, `id="done"`) {
		t.Fatalf("edit not saved:\n%s", got)
	}
	if pw, err := sec.Get(context.Background(), "Job"); pw != secret || err != nil {
		t.Errorf("renamed keychain entry: %q, %v", pw, err)
	}
	if _, err := sec.Get(context.Background(), "Work"); err == nil {
		t.Error("old keychain entry left behind")
	}
	if got, n := eng2.last(); n != 1 || len(got) != 1 || got[0].Name != "Job" {
		t.Errorf("engine got %d calls, last %+v; want one with only Job", n, got)
	}

	c3, _, eng3 := newServer(t, Options{ConfigPath: c.s.path, Secrets: sec})
	if got := c3.page("POST", "/remove", url.Values{"name": {"Job"}}); !strings.Contains(got, `id="confirm-remove"`) {
		t.Fatalf("no confirmation:\n%s", got)
	}
	if got := c3.page("POST", "/remove", url.Values{"name": {"Job"}, "confirm": {"yes"}}); !strings.Contains(got, "is removed, with its password") {
		t.Fatalf("remove:\n%s", got)
	}
	if cfg, _ := accounts.Load(c.s.path); len(cfg.Accounts) != 0 {
		t.Errorf("config still has %+v", cfg.Accounts)
	}
	if _, err := sec.Get(context.Background(), "Job"); err == nil {
		t.Error("keychain entry not deleted")
	}
	if got, n := eng3.last(); n != 1 || len(got) != 0 {
		t.Errorf("engine got %d calls, last %+v; want one with no accounts", n, got)
	}
}

func TestFailedTestOffersSaveAnyway(t *testing.T) {
	c, sec, _ := newServer(t, Options{})
	form := url.Values{"mode": {"add"}, "email": {"bob@example.test"}, "password": {"wrong"}, "protocol": {"pop3"},
		"host": {"pop.example.test"}, "security": {"tls"}, "username": {"bob"}, "action": {"save"}}
	got := c.page("POST", "/account", form)
	if !strings.Contains(got, "Login refused by pop.example.test: check the password") || !strings.Contains(got, `id="save-anyway"`) {
		t.Fatalf("failure page:\n%s", got)
	}
	if strings.Contains(got, "wrong") {
		t.Errorf("failure page shows the password:\n%s", got)
	}
	form.Set("action", "saveanyway")
	if got := c.page("POST", "/account", form); !strings.Contains(got, `id="done"`) {
		t.Fatalf("save anyway:\n%s", got)
	}
	if pw, _ := sec.Get(context.Background(), "bob@example.test"); pw != "wrong" {
		t.Errorf("keychain: %q", pw)
	}
}

func TestFormProblems(t *testing.T) {
	c, _, _ := newServer(t, Options{})
	got := c.page("POST", "/account", url.Values{"mode": {"add"}, "name": {"x"}, "protocol": {"imap"}, "host": {"imap.example.test:993"},
		"port": {"99999"}, "security": {"tls"}, "action": {"test"}})
	for _, want := range []string{"Port &#34;99999&#34; is not a port number", "must not include a port", "Username is required"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if got := c.page("POST", "/lookup", url.Values{"email": {"nobody"}, "password": {"x"}}); !strings.Contains(got, "is not an e-mail address") {
		t.Errorf("bad address:\n%s", got)
	}
	got = c.page("POST", "/lookup", url.Values{"email": {"z@unknown.test"}, "password": {"x"}})
	if !strings.Contains(got, "No settings were found for unknown.test") || !strings.Contains(got, `value="imap.unknown.test"`) {
		t.Errorf("no autoconfig:\n%s", got)
	}
}

// hiddenValue finds the value of the hidden input name in a page.
func hiddenValue(t *testing.T, html, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(html, `name="`+name+`" value="`)
	if !ok {
		t.Fatalf("no %s in page", name)
	}
	v, _, _ := strings.Cut(rest, `"`)
	if v == "" {
		t.Fatalf("empty %s", name)
	}
	return v
}

// TestEditChangedServerNeedsPassword: the stored password of an edited
// account goes only to the server, user and security it was saved with; a
// page that changed them (a typo, or someone else's form) must ask for the
// password again, for a test and for a save.
func TestEditChangedServerNeedsPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	saved := accounts.Account{Name: "Work", Protocol: accounts.IMAP, Host: "imap.example.test", Port: 993,
		Security: accounts.TLS, Username: "ann", Folders: []string{"INBOX"}}
	if err := accounts.AddAccount(path, saved); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sent []string // host:port user password, per login
	verify := func(ctx context.Context, a accounts.Account, po *poller.Options) (*poller.Inbox, error) {
		pw, err := po.Password(ctx)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		sent = append(sent, a.Host+":"+itoa(a.Port)+" "+a.Username+" "+pw)
		mu.Unlock()
		return &poller.Inbox{Messages: 1}, nil
	}
	sec := &fakeSecrets{m: map[string]string{"Work": "stored-pw"}}
	edit := func(change map[string]string) url.Values {
		f := url.Values{"mode": {"edit"}, "orig": {"Work"}, "name": {"Work"}, "protocol": {"imap"}, "host": {"imap.example.test"},
			"port": {"993"}, "security": {"tls"}, "username": {"ann"}, "folders": {"INBOX"}}
		for k, v := range change {
			f.Set(k, v)
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		change map[string]string
	}{
		{"host", map[string]string{"host": "evil.example.test"}},
		{"port", map[string]string{"port": "994"}},
		{"username", map[string]string{"username": "bob"}},
		{"protocol", map[string]string{"protocol": "pop3", "port": "993"}},
		{"security", map[string]string{"security": "none", "port": "993"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := newServer(t, Options{ConfigPath: path, Secrets: sec, Verify: verify})
			mu.Lock()
			sent = nil
			mu.Unlock()
			for _, action := range []string{"test", "save", "saveanyway"} {
				f := edit(tc.change)
				f.Set("action", action)
				got := c.page("POST", "/account", f)
				if !strings.Contains(got, "type the password again") || strings.Contains(got, `id="done"`) {
					t.Errorf("%s: the page did not ask for the password:\n%s", action, got)
				}
			}
			mu.Lock()
			if len(sent) > 0 {
				t.Errorf("logins with the stored password: %q", sent)
			}
			sent = nil
			mu.Unlock()
			if cfg, err := accounts.Load(path); err != nil || cfg.Accounts[0].Host != "imap.example.test" || cfg.Accounts[0].Username != "ann" {
				t.Fatalf("config changed: %+v, %v", cfg, err)
			}
			// With the password typed again, the test goes ahead.
			f := edit(tc.change)
			f.Set("action", "test")
			f.Set("password", "typed-pw")
			if got := c.page("POST", "/account", f); !strings.Contains(got, "Connected") {
				t.Errorf("with the password typed:\n%s", got)
			}
			mu.Lock()
			if len(sent) != 1 || !strings.HasSuffix(sent[0], " typed-pw") {
				t.Errorf("logins %q", sent)
			}
			mu.Unlock()
		})
	}

	t.Run("unchanged", func(t *testing.T) {
		c, _, _ := newServer(t, Options{ConfigPath: path, Secrets: sec, Verify: verify})
		mu.Lock()
		sent = nil
		mu.Unlock()
		// The host's case and the folders do not matter.
		f := edit(map[string]string{"host": "IMAP.Example.test", "folders": "INBOX, Lists"})
		f.Set("action", "test")
		if got := c.page("POST", "/account", f); !strings.Contains(got, "Connected") {
			t.Fatalf("unchanged server:\n%s", got)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(sent) != 1 || sent[0] != "IMAP.Example.test:993 ann stored-pw" {
			t.Errorf("logins %q", sent)
		}
	})
}
