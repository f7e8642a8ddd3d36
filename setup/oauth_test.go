package setup

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/autoconfig"
	"mailsneaker/internal/safefile"
	"mailsneaker/internal/testenv"
	"mailsneaker/oauth"
	"mailsneaker/poller"
)

// newDebugLogger logs everything, debug included, to b.
func newDebugLogger(b *testenv.LogBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// mxOnly answers MX lookups from a table and nothing else.
type mxOnly map[string]string

func (m mxOnly) LookupSRV(context.Context, string, string, string) (string, []*net.SRV, error) {
	return "", nil, errors.New("no SRV here")
}

func (m mxOnly) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if h, ok := m[name]; ok {
		return []*net.MX{{Host: h, Pref: 10}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// tokenVerify is a Verify that logs in with the account's access token:
// it passes if the token source gives one.
func tokenVerify(ctx context.Context, a accounts.Account, po *poller.Options) (*poller.Inbox, error) {
	if po.OAuth == nil {
		return nil, &poller.CheckError{Kind: poller.KindConfig, Msg: "no token source"}
	}
	if _, err := po.OAuth.Token(ctx); err != nil {
		return nil, &poller.CheckError{Kind: poller.KindSignIn, Msg: "no access token", Err: err}
	}
	return &poller.Inbox{Messages: 7, Unread: 2}, nil
}

// oauthPage is a setup page with a fake authorization server, a log, and
// sec as its keychain (nil: an in-memory fake).
type oauthPage struct {
	*client
	srv  *testenv.OAuthServer
	sec  Secrets
	eng  *fakeEngine
	logs *testenv.LogBuffer
}

func newOAuthPage(t *testing.T, sec Secrets, timeout time.Duration) *oauthPage {
	t.Helper()
	logs := &testenv.LogBuffer{}
	srv := testenv.StartOAuthServer(t)
	c, fake, eng := newServer(t, Options{Secrets: sec, Verify: tokenVerify, OAuth: &oauth.FlowOptions{Timeout: timeout},
		Logger: newDebugLogger(logs)})
	if sec == nil {
		sec = fake
	}
	return &oauthPage{client: c, srv: srv, sec: sec, eng: eng, logs: logs}
}

// form is the add form of an IMAP account that signs in at the fake
// server, with scopes.
func (p *oauthPage) form(scopes string) url.Values {
	return url.Values{"mode": {"add"}, "email": {"ann@example.test"}, "name": {"Work"}, "protocol": {"imap"},
		"host": {"127.0.0.1"}, "port": {"993"}, "security": {"tls"}, "username": {"ann"}, "folders": {"INBOX"},
		"login": {"custom"}, "oauth_client_id": {p.srv.ClientID}, "oauth_auth_url": {p.srv.AuthURL()},
		"oauth_token_url": {p.srv.TokenURL()}, "oauth_scopes": {scopes}}
}

// signIn presses Sign in and returns the authorization URL the browser is
// sent to.
func (p *oauthPage) signIn(t *testing.T, form url.Values) string {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("signin", f.Get("login"))
	return goesTo(t, p.page("POST", "/account", f), p.srv.AuthURL()+"?")
}

// goesTo returns the address the "Continue to the sign-in" page sends the
// browser to, which must start with prefix.
func goesTo(t *testing.T, page, prefix string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `<meta http-equiv="refresh" content="0;url=`)
	u, _, _ := strings.Cut(rest, `"`)
	u = html.UnescapeString(u)
	if !ok || !strings.HasPrefix(u, prefix) || !strings.Contains(page, `id="signin-go"`) {
		t.Fatalf("Sign in does not go to %s:\n%s", prefix, page)
	}
	return u
}

// back plays the browser on the provider's redirect to the callback: it
// returns the status, and the page the browser ends on (following the
// redirect into the session, if any).
func (p *oauthPage) back(t *testing.T, redirect *url.URL) (int, string) {
	t.Helper()
	if got, want := redirect.Scheme+"://"+redirect.Host+redirect.Path, p.origin+oauth.CallbackPath; got != want {
		t.Fatalf("the provider redirects to %s, want %s", got, want)
	}
	resp := p.do("GET", redirect.String(), nil, nil)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusSeeOther {
		// Its own page: with nosniff, anything but text/html shows as text.
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("the callback's page has Content-Type %q", ct)
		}
		return resp.StatusCode, string(b)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, p.s.prefix+"/signedin?ref=") {
		t.Fatalf("the callback sent the browser to %q", show(p.s, loc))
	}
	return http.StatusOK, p.page("GET", p.origin+loc, nil)
}

// nothingSaved checks that neither config.toml nor the keychain changed.
func (p *oauthPage) nothingSaved(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(p.s.path); err == nil {
		raw, _ := os.ReadFile(p.s.path)
		t.Errorf("config written:\n%s", raw)
	}
	if f, ok := p.sec.(*fakeSecrets); ok && len(f.m) > 0 {
		t.Errorf("keychain written: %d entries", len(f.m))
	}
	if _, n := p.eng.last(); n > 0 {
		t.Errorf("the engine was told %d times", n)
	}
}

// noSecrets checks that no code, state or token of the flow is in texts.
func noSecrets(t *testing.T, redirect *url.URL, texts ...string) {
	t.Helper()
	q := redirect.Query()
	for _, k := range []string{"code", "state"} {
		v := q.Get(k)
		if v == "" {
			continue
		}
		for i, s := range texts {
			if strings.Contains(s, v) {
				t.Errorf("text %d holds the %s of the redirect", i, k)
			}
		}
	}
}

// Every bad answer of the sign-in gives a clear message on the page, and
// nothing is saved.
func TestSignInBadInputs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scopes string
		setup  func(p *oauthPage)
		deny   bool
		alter  func(q url.Values)
		status int
		want   string
	}{
		{name: "access_denied", deny: true, status: 200, want: "Access was denied at 127.0.0.1"},
		{name: "invalid_scope", scopes: "mail bogus", status: 200, want: "refused the scopes asked for (invalid_scope)"},
		{name: "wrong state", alter: func(q url.Values) { q.Set("state", "forged"+q.Get("state")) }, status: 400,
			want: "does not belong to a sign-in in progress on this computer (wrong or expired state)"},
		{name: "no state", alter: func(q url.Values) { q.Del("state") }, status: 400, want: "wrong or expired state"},
		{name: "error with wrong state", alter: func(q url.Values) {
			q.Set("state", "forged-state-0123456789")
			q.Del("code")
			q.Set("error", "access_denied")
		},
			status: 400, want: "wrong or expired state"},
		{name: "no code", alter: func(q url.Values) { q.Del("code") }, status: 200, want: "without an authorization code"},
		{name: "hang", setup: func(p *oauthPage) { p.srv.SetHang(true) }, status: 200, want: "did not answer in time"},
		{name: "garbage", setup: func(p *oauthPage) { p.srv.SetGarbage(true) }, status: 200, want: "sent an answer that is not a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newOAuthPage(t, nil, 500*time.Millisecond)
			if tc.setup != nil {
				tc.setup(p)
			}
			scopes := tc.scopes
			if scopes == "" {
				scopes = "mail offline_access"
			}
			auth := p.signIn(t, p.form(scopes))
			redirect := p.srv.Consent(t, auth, !tc.deny)
			if tc.alter != nil {
				q := redirect.Query()
				tc.alter(q)
				redirect.RawQuery = q.Encode()
			}
			status, html := p.back(t, redirect)
			if status != tc.status || !strings.Contains(html, tc.want) {
				t.Fatalf("status %d, want %d; page does not say %q:\n%s", status, tc.status, tc.want, html)
			}
			if status == 200 {
				// Back on the form: Sign in again, no Signed in.
				if !strings.Contains(html, `id="signin-button"`) || strings.Contains(html, `id="signed-in"`) || !strings.Contains(html, `value="Work"`) {
					t.Errorf("the page does not offer the sign-in again:\n%s", html)
				}
				// Save now is refused: there is no sign-in.
				f := p.form("mail offline_access")
				f.Set("action", "save")
				if got := p.page("POST", "/account", f); !strings.Contains(got, "Sign in with your provider first") {
					t.Errorf("Save without a sign-in:\n%s", got)
				}
			}
			p.nothingSaved(t)
			noSecrets(t, redirect, html, p.logs.String())
		})
	}
}

// A redirect is taken once: a second one changes nothing, and the first
// one's sign-in still waits for Save.
func TestSignInSecondRedirect(t *testing.T) {
	p := newOAuthPage(t, nil, 5*time.Second)
	redirect := p.srv.Consent(t, p.signIn(t, p.form("mail offline_access")), true)
	// A wrong state first: the sign-in stays open for the right one.
	wrong := *redirect
	q := wrong.Query()
	q.Set("state", "x"+q.Get("state"))
	wrong.RawQuery = q.Encode()
	if status, html := p.back(t, &wrong); status != 400 || !strings.Contains(html, "wrong or expired state") {
		t.Fatalf("wrong state: %d\n%s", status, html)
	}
	status, first := p.back(t, redirect)
	if status != 200 || !strings.Contains(first, "Signed in with your provider as ann.") {
		t.Fatalf("first redirect: %d\n%s", status, first)
	}
	status, second := p.back(t, redirect)
	if status != 400 || !strings.Contains(second, "This sign-in has already finished") {
		t.Fatalf("second redirect: %d\n%s", status, second)
	}
	if strings.Contains(second, p.s.prefix) || strings.Contains(second, "style.css") {
		t.Errorf("the page of a refused redirect links into the session:\n%s", second)
	}
	if n := p.srv.Requests(); n != 1 {
		t.Errorf("%d code exchanges, want 1", n)
	}
	// The first sign-in is intact.
	ref := hiddenValue(t, first, "signref")
	if again := p.page("GET", "/signedin?ref="+ref, nil); !strings.Contains(again, `id="signed-in"`) {
		t.Errorf("the sign-in is gone after a second redirect:\n%s", again)
	}
	p.nothingSaved(t)
	noSecrets(t, redirect, first, second, p.logs.String())
}

// A sign-in expires: its page, and a Save with it, say so.
func TestSignInExpires(t *testing.T) {
	p := newOAuthPage(t, nil, 5*time.Second)
	redirect := p.srv.Consent(t, p.signIn(t, p.form("mail offline_access")), true)
	_, html := p.back(t, redirect)
	ref := hiddenValue(t, html, "signref")
	p.s.signins.mu.Lock()
	p.s.signins.now = func() time.Time { return time.Now().Add(SignInTTL + time.Second) }
	p.s.signins.mu.Unlock()
	if got := p.page("GET", "/signedin?ref="+ref, nil); !strings.Contains(got, "This sign-in has expired") {
		t.Errorf("expired sign-in page:\n%s", got)
	}
	f := p.form("mail offline_access")
	f.Set("action", "save")
	f.Set("signref", ref)
	if got := p.page("POST", "/account", f); !strings.Contains(got, "The sign-in has expired") {
		t.Errorf("Save with an expired sign-in:\n%s", got)
	}
	// And a redirect after the TTL finds no sign-in.
	p.nothingSaved(t)
}

// The whole sign-in with the real keychain: Save writes the account with
// auth = "oauth2" and the refresh token to the keychain, and a token
// source for the saved account gets access tokens with it. No code,
// state or token is on a page, in the log or in config.toml.
func TestSignInSave(t *testing.T) {
	kc := testKeychain(t, "mailsneaker-oauth-setup-test")
	p := newOAuthPage(t, kc, 5*time.Second)
	auth := p.signIn(t, p.form("mail offline_access"))
	au, _ := url.Parse(auth)
	aq := au.Query()
	if aq.Get("code_challenge_method") != "S256" || aq.Get("code_challenge") == "" || aq.Get("state") == "" ||
		aq.Get("redirect_uri") != p.origin+oauth.CallbackPath || aq.Get("login_hint") != "ann" {
		t.Errorf("authorization URL: %v", aq)
	}
	redirect := p.srv.Consent(t, auth, true)
	_, html := p.back(t, redirect)
	if !strings.Contains(html, "Signed in with your provider as ann.") || strings.Contains(html, `id="password"`) {
		t.Fatalf("signed-in page:\n%s", html)
	}
	pages := []string{html}
	f := p.form("mail offline_access")
	f.Set("signref", hiddenValue(t, html, "signref"))
	f.Set("action", "test")
	got := p.page("POST", "/account", f)
	if !strings.Contains(got, "Connected — 7 messages, 2 unread") || !strings.Contains(got, `id="signed-in"`) {
		t.Fatalf("test with the sign-in:\n%s", got)
	}
	pages = append(pages, got)
	if _, err := os.Stat(p.s.path); err == nil {
		t.Fatal("a test wrote the config file")
	}
	f.Set("action", "save")
	got = p.page("POST", "/account", f)
	if !strings.Contains(got, `The account &#34;Work&#34; is saved and its sign-in is in the keychain`) {
		t.Fatalf("not saved:\n%s", got)
	}
	pages = append(pages, got)
	waitDone(t, p.s)
	cfg, err := accounts.Load(p.s.path)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := cfg.Account("Work")
	if !ok || !a.OAuth2() || a.OAuthProvider != "custom" || a.OAuthTokenURL != p.srv.TokenURL() || a.OAuthClientID != p.srv.ClientID ||
		strings.Join(a.OAuthScopes, " ") != "mail offline_access" || a.PasswordCommand != "" {
		t.Fatalf("saved account: %+v", a)
	}
	ctx := context.Background()
	if _, err := kc.Get(ctx, "Work"); err == nil {
		t.Error("a password was stored for an oauth2 account")
	}
	rt, err := kc.Get(ctx, oauth.KeychainUser("Work"))
	if err != nil || rt == "" {
		t.Fatalf("no grant in the keychain: %v", err)
	}
	// The saved grant works: a fresh source refreshes with it.
	before := p.srv.Refreshes()
	if tok, err := oauth.NewSource(a, kc, nil).Token(ctx); err != nil || tok == "" {
		t.Fatalf("token from the saved grant: %v", err)
	}
	if p.srv.Refreshes() != before+1 {
		t.Errorf("refreshes %d → %d", before, p.srv.Refreshes())
	}
	raw, _ := os.ReadFile(p.s.path)
	texts := append(pages, string(raw), p.logs.String())
	for i, s := range texts {
		if strings.Contains(s, rt) {
			t.Errorf("text %d holds the refresh token", i)
		}
	}
	noSecrets(t, redirect, texts...)
}

// The address says Google: the page offers Sign in with Google in place
// of the password; with a password typed, it offers it beside.
func TestSignInDetected(t *testing.T) {
	c, _, _ := newServer(t, Options{Autoconfig: &autoconfig.Options{URLs: []string{}, NoSRV: true,
		Resolver: mxOnly{"corp.example": "corp-example.mail.protection.outlook.com."}}})
	html := c.page("POST", "/lookup", url.Values{"email": {"ann@gmail.com"}})
	if !strings.Contains(html, `id="signin-button" type="submit" name="signin" value="google"`) || !strings.Contains(html, "Sign in with Google") {
		t.Fatalf("no Sign in with Google:\n%s", html)
	}
	if strings.Contains(html, `id="password"`) || strings.Contains(html, `id="hint"`) || strings.Contains(html, `id="error"`) {
		t.Errorf("the sign-in page asks for a password:\n%s", html)
	}
	if !strings.Contains(html, `id="use-password"`) {
		t.Errorf("no way to use a password instead:\n%s", html)
	}
	html = c.page("POST", "/lookup", url.Values{"email": {"bob@corp.example"}})
	if !strings.Contains(html, "Sign in with Microsoft") || !strings.Contains(html, `name="detected_via" value="MX corp-example.mail.protection.outlook.com"`) {
		t.Fatalf("MX not detected:\n%s", html)
	}
	// Found by its MX, not by autoconfig: Microsoft 365's server, the whole address as login.
	if !strings.Contains(html, `id="host" name="host" value="outlook.office365.com"`) || !strings.Contains(html, `value="bob@corp.example"`) ||
		strings.Contains(html, "No settings were found") {
		t.Errorf("no Microsoft 365 server for a domain hosted there:\n%s", html)
	}
	html = c.page("POST", "/lookup", url.Values{"email": {"ann@gmail.com"}, "password": {"app-password"}})
	if !strings.Contains(html, `id="password"`) || !strings.Contains(html, `id="signin-instead" type="submit" name="signin" value="google"`) {
		t.Errorf("with a password: no password field, or no sign-in beside it:\n%s", html)
	}
	html = c.page("POST", "/lookup", url.Values{"email": {"ann@example.test"}})
	if !strings.Contains(html, "Type the password of the account.") {
		t.Errorf("no provider and no password:\n%s", html)
	}

	// Sign in with Google: without a client ID (none built in here) the
	// page says what to do; with one, the browser goes to Google.
	form := url.Values{"mode": {"add"}, "email": {"ann@gmail.com"}, "name": {"ann@gmail.com"}, "protocol": {"imap"},
		"host": {"imap.gmail.com"}, "port": {"993"}, "security": {"tls"}, "username": {"ann@gmail.com"}, "folders": {"INBOX"},
		"login": {"google"}, "signin": {"google"}}
	if p, ok := oauth.LookupProvider("google"); ok && p.DefaultClientID == "" {
		html = c.page("POST", "/account", form)
		if !strings.Contains(html, "has no oauth_client_id and this build has no default") || !strings.Contains(html, `id="oauth_client_id"`) {
			t.Errorf("no client ID:\n%s", html)
		}
	}
	form.Set("oauth_client_id", "123.apps.googleusercontent.com")
	loc, _ := url.Parse(goesTo(t, c.page("POST", "/account", form), "https://accounts.google.com/"))
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "123.apps.googleusercontent.com" ||
		q.Get("redirect_uri") != c.origin+oauth.CallbackPath || q.Get("scope") != "https://mail.google.com/" || q.Get("access_type") != "offline" {
		t.Errorf("Sign in with Google goes to %s", loc)
	}
	// "Use a password instead" gives the password field back.
	form.Del("signin")
	form.Set("usepassword", "1")
	if html = c.page("POST", "/account", form); !strings.Contains(html, `id="password"`) || strings.Contains(html, `id="signin-button"`) {
		t.Errorf("Use a password instead:\n%s", html)
	}
}

// "Sign in again…" in the tray (Edit with the sign-in problem): the page
// of the account says what happened and offers the sign-in; signing in
// and saving replaces the revoked grant, changes no setting, and asks the
// engine to check the account at once.
func TestLauncherSignInAgain(t *testing.T) {
	kc := testKeychain(t, "mailsneaker-signin-again-test")
	srv := testenv.StartOAuthServer(t)
	cfg := t.TempDir() + "/config.toml"
	a := accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 993, Security: accounts.TLS, Username: "ann",
		Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderCustom, OAuthClientID: srv.ClientID,
		OAuthAuthURL: srv.AuthURL(), OAuthTokenURL: srv.TokenURL(), OAuthScopes: []string{"mail", "offline_access"}}
	writeAccount(t, cfg, a)
	ctx := context.Background()
	if err := kc.Set(ctx, oauth.KeychainUser("work"), "revoked-refresh-token"); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfg)
	eng := &fakeEngine{}
	l, opened, _ := recordingLauncher(t, Options{ConfigPath: cfg, Secrets: kc, Engine: eng, Verify: tokenVerify}, false)
	l.Edit("work", &poller.CheckError{Kind: poller.KindSignIn, Msg: `the sign-in of account "work" has expired or was revoked at 127.0.0.1: sign in again`,
		Err: &oauth.Error{Kind: oauth.ErrSignInAgain, Msg: "sign in again"}})
	if len(*opened) != 1 {
		t.Fatalf("opened %q", *opened)
	}
	path, page := openLaunched(t, l, (*opened)[0])
	if path != "/edit?name=work" {
		t.Errorf("opened %q", path)
	}
	for _, want := range []string{"The last check failed: The sign-in of account &#34;work&#34; has expired or was revoked",
		`id="signin-button" type="submit" name="signin" value="custom"`, "Sign in again with your provider"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `id="password"`) {
		t.Errorf("the page asks for a password:\n%s", page)
	}
	c := &client{t: t, s: l.srv, origin: "http://" + l.srv.host, base: "http://" + l.srv.host + l.srv.prefix}
	p := &oauthPage{client: c, srv: srv, sec: kc, eng: eng}
	form := url.Values{"mode": {"edit"}, "orig": {"work"}, "name": {"work"}, "protocol": {"imap"}, "host": {"127.0.0.1"},
		"port": {"993"}, "security": {"tls"}, "username": {"ann"}, "folders": {"INBOX"},
		"login": {"custom"}, "oauth_client_id": {hiddenOrInput(t, page, "oauth_client_id")}, "oauth_auth_url": {srv.AuthURL()},
		"oauth_token_url": {srv.TokenURL()}, "oauth_scopes": {hiddenOrInput(t, page, "oauth_scopes")}}
	_, signed := p.back(t, srv.Consent(t, p.signIn(t, form), true))
	if !strings.Contains(signed, `id="signed-in"`) {
		t.Fatalf("not signed in:\n%s", signed)
	}
	form.Set("signref", hiddenValue(t, signed, "signref"))
	form.Set("action", "save")
	if got := c.page("POST", "/account", form); !strings.Contains(got, `id="done"`) {
		t.Fatalf("not saved:\n%s", got)
	}
	rt, err := kc.Get(ctx, oauth.KeychainUser("work"))
	if err != nil || rt == "revoked-refresh-token" {
		t.Fatalf("the grant was not replaced: %v", err)
	}
	after, _ := os.ReadFile(cfg)
	if string(after) != string(before) {
		t.Errorf("config changed by a new sign-in:\n%s\nwas:\n%s", after, before)
	}
	if got := eng.checked(); len(got) != 1 || got[0] != "work" {
		t.Errorf("checks asked for: %q, want [work]", got)
	}
}

// hiddenOrInput is the value of the field name in html.
func hiddenOrInput(t *testing.T, html, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(html, `name="`+name+`" value="`)
	v, _, _ := strings.Cut(rest, `"`)
	if !ok {
		t.Fatalf("no field %s", name)
	}
	return v
}

// testKeychain is the keychain under service of a gnome-keyring on a
// session bus of the test's own (DBUS_SESSION_BUS_ADDRESS points at it).
func testKeychain(t *testing.T, service string) *accounts.Keychain {
	t.Helper()
	testenv.GnomeKeyring(t, testenv.SessionBus(t, false))
	return &accounts.Keychain{Service: service}
}

// signedInAccount is an oauth2 account "work" of user ann at p's
// provider, over IMAPS on 127.0.0.1.
func (p *oauthPage) signedInAccount() accounts.Account {
	return accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 993, Security: accounts.TLS, Username: "ann",
		Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderCustom, OAuthClientID: p.srv.ClientID,
		OAuthAuthURL: p.srv.AuthURL(), OAuthTokenURL: p.srv.TokenURL(), OAuthScopes: []string{"mail", "offline_access"}}
}

// signedInEdit saves the oauth2 account "work" (signedInAccount) with a
// grant in kc and returns the edit page's form for it, to be saved as
// name (after a new sign-in when newSignIn), and the stored grant's
// refresh token.
func (p *oauthPage) signedInEdit(t *testing.T, kc *accounts.Keychain, name string, newSignIn bool) (form url.Values, old string) {
	t.Helper()
	writeAccount(t, p.s.path, p.signedInAccount())
	old = p.srv.RefreshToken("ann")
	if err := kc.Set(context.Background(), oauth.KeychainUser("work"), old); err != nil {
		t.Fatal(err)
	}
	form = p.editForm(name)
	if newSignIn {
		p.signInOnForm(t, form)
	}
	return form, old
}

// editForm is the edit page's form of account "work" at p's provider, to
// be saved as name.
func (p *oauthPage) editForm(name string) url.Values {
	form := p.form("mail offline_access")
	form.Set("mode", "edit")
	form.Set("orig", "work")
	form.Set("name", name)
	return form
}

// signInOnForm signs in from form's page, consents, and puts the
// sign-in's reference into form, as the page that comes back has it.
func (p *oauthPage) signInOnForm(t *testing.T, form url.Values) {
	t.Helper()
	_, signed := p.back(t, p.srv.Consent(t, p.signIn(t, form), true))
	form.Set("signref", hiddenValue(t, signed, "signref"))
}

// saveLocked posts form to /account while another process holds
// config.toml's lock, so that the config write fails, and returns the page.
func (c *client) saveLocked(t *testing.T, form url.Values) string {
	t.Helper()
	lock, err := safefile.TryLock(c.s.path + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	return c.page("POST", "/account", form)
}

// Renaming an account that signs in moves its grant: without a new
// sign-in the stored one goes to the new name; with one, the new grant is
// stored under the new name and none is left under the old.
func TestSignInRename(t *testing.T) {
	kc := testKeychain(t, "mailsneaker-signin-rename-test")
	ctx := context.Background()
	for _, newSignIn := range []bool{false, true} {
		p := newOAuthPage(t, kc, 5*time.Second)
		form, old := p.signedInEdit(t, kc, "home", newSignIn)
		form.Set("action", "save")
		if got := p.page("POST", "/account", form); !strings.Contains(got, `id="done"`) {
			t.Fatalf("new sign-in %v: not saved:\n%s", newSignIn, got)
		}
		rt, err := kc.Get(ctx, oauth.KeychainUser("home"))
		if err != nil || (rt == old) == newSignIn {
			t.Errorf("new sign-in %v: grant under the new name: same as the old %v, %v", newSignIn, rt == old, err)
		}
		if _, err := kc.Get(ctx, oauth.KeychainUser("work")); err == nil {
			t.Errorf("new sign-in %v: a grant is left under the old name", newSignIn)
		}
		kc.Delete(ctx, oauth.KeychainUser("home"))
	}
}
