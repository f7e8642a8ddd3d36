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

// fakeEngine records what the page told the poller.
type fakeEngine struct {
	mu      sync.Mutex
	added   []accounts.Account
	removed []string
}

func (e *fakeEngine) AddAccount(a accounts.Account) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.added = append(e.added, a)
}

func (e *fakeEngine) RemoveAccount(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removed = append(e.removed, name)
}

// client talks to a setup server like the browser that opened its URL.
type client struct {
	t      *testing.T
	s      *Server
	base   string
	cookie string
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
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	u, _ := url.Parse(s.URL())
	c := &client{t: t, s: s, base: "http://" + u.Host}
	resp := c.do("GET", s.URL(), nil, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first GET: %s", resp.Status)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
				t.Errorf("cookie %+v is not HttpOnly+SameSite=Strict", ck)
			}
			c.cookie = ck.Value
		}
	}
	if c.cookie == "" {
		t.Fatal("no cookie after the token")
	}
	return c, sec, eng
}

// do sends a request without following redirects; hdr may override Host
// ("Host"), Origin and Cookie.
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
	if c.cookie != "" {
		req.Header.Set("Cookie", cookieName+"="+c.cookie)
	}
	if method == "POST" {
		req.Header.Set("Origin", c.base)
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
		c.t.Fatalf("%s %s: %v", method, target, err)
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
		t.Fatalf("start page with cookie: %s", got)
	}
	good := url.Values{"name": {"x"}}
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
	}{
		{"no token", "GET", "/", map[string]string{"Cookie": ""}},
		{"wrong token", "GET", "/?token=nope", map[string]string{"Cookie": ""}},
		{"wrong cookie", "GET", "/accounts", map[string]string{"Cookie": cookieName + "=nope"}},
		{"token on a POST", "POST", "/cancel?token=" + c.cookie, map[string]string{"Cookie": ""}},
		{"foreign Host", "GET", "/", map[string]string{"Host": "evil.example:" + strings.Split(c.base, ":")[2]}},
		{"localhost Host", "GET", "/", map[string]string{"Host": "localhost:" + strings.Split(c.base, ":")[2]}},
		{"foreign Origin", "POST", "/cancel", map[string]string{"Origin": "http://evil.example"}},
		{"null Origin", "POST", "/remove", map[string]string{"Origin": "null"}},
		{"no Origin nor Referer", "POST", "/cancel", map[string]string{"Origin": ""}},
		{"foreign Referer", "POST", "/cancel", map[string]string{"Origin": "", "Referer": "http://evil.example/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.do(tc.method, tc.path, good, tc.hdr)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %s, want 403", tc.method, tc.path, resp.Status)
			}
		})
	}
	select {
	case <-c.s.Done():
		t.Fatal("a refused cancel stopped the server")
	default:
	}
	resp := c.do("GET", "/", nil, nil)
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
	if _, err := http.Get(c.base + "/"); err == nil {
		t.Error("server still answers after the idle timeout")
	}
}

func TestContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Options{ConfigPath: filepath.Join(t.TempDir(), "c.toml"), Secrets: &fakeSecrets{}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.Contains(s.URL(), "/?token=") {
		t.Errorf("URL = %s", s.URL())
	}
	cancel()
	waitDone(t, s)
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
	if len(eng.added) != 1 || eng.added[0].Name != "Work" || eng.added[0].Port != 993 {
		t.Errorf("engine got %+v", eng.added)
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
	if len(eng2.removed) != 1 || eng2.removed[0] != "Work" || len(eng2.added) != 1 || eng2.added[0].Name != "Job" {
		t.Errorf("engine: removed %v, added %+v", eng2.removed, eng2.added)
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
	if len(eng3.removed) != 1 || eng3.removed[0] != "Job" {
		t.Errorf("engine removed %v", eng3.removed)
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
