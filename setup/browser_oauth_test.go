package setup

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/oauth"
	"mailsneaker/poller"
)

// TestBrowserSignIn: in headless Chromium, Add account → the manual
// settings of an account at a provider of its own (the fake authorization
// server) → Sign in → the provider's consent page → Deny → back on the page,
// which says so → Sign in → Allow → back on the
// page, "Signed in" → Test connection → Save. Then the poller, with the
// grant from the keychain, counts the mail on a Dovecot that takes only
// OAuth2 tokens from that provider (its oauth2 passdb). No token, code or
// state is on a page or in config.toml.
func TestBrowserSignIn(t *testing.T) {
	bctx := browser(t)
	srv := testenv.StartOAuthServer(t)
	d := testenv.StartDovecotOAuth(t, srv.Key)
	user, _ := d.AddUser(t)
	for i := range 3 {
		d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", fmt.Sprintf("hello %d", i), "body"))
	}
	keychainDesktop(t)
	kc := &accounts.Keychain{Service: "mailsneaker-browser-oauth-test"}
	eng := &fakeEngine{}
	logs := &testenv.LogBuffer{}
	s, err := Start(context.Background(), Options{Secrets: kc, Engine: eng, Poller: &poller.Options{Timeout: 10 * time.Second},
		Logger: newDebugLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	file, err := s.launchFile("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := tab(t, bctx)
	var pages []string
	html := func() string {
		t.Helper()
		h := pageHTML(t, ctx)
		pages = append(pages, h)
		return h
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate("file://"+file),
		chromedp.WaitVisible(chromedp.ID("manual-link")),
		chromedp.Click(chromedp.ID("manual-link")),
		chromedp.WaitVisible(chromedp.ID("host")),
		chromedp.SendKeys(chromedp.ID("email"), user+"@example.test"),
		chromedp.SendKeys(chromedp.ID("name"), "work"),
		chromedp.SendKeys(chromedp.ID("host"), "127.0.0.1"),
		chromedp.SetValue(chromedp.ID("port"), fmt.Sprint(d.IMAPS)),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("ca_file"), d.CAFile),
		chromedp.SetValue(chromedp.ID("login"), "custom"),
		// The provider's fields appear with the choice.
		chromedp.Click(chromedp.ID("test")),
		chromedp.WaitVisible(chromedp.ID("oauth_auth_url")),
		chromedp.SendKeys(chromedp.ID("oauth_client_id"), srv.ClientID),
		chromedp.SendKeys(chromedp.ID("oauth_auth_url"), srv.AuthURL()),
		chromedp.SendKeys(chromedp.ID("oauth_token_url"), srv.TokenURL()),
		chromedp.SendKeys(chromedp.ID("oauth_scopes"), "mail offline_access"),
		chromedp.Click(chromedp.ID("signin-button")),
		// The provider's consent page.
		chromedp.WaitVisible(chromedp.ID("allow")),
	)
	if err != nil {
		t.Fatalf("to the consent page: %v\n%s", err, html())
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(loc, srv.AuthURL()+"?") {
		t.Fatalf("consent page at %q, %v", loc, err)
	}
	// Deny first: back on the page, which says so and offers the sign-in again.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("deny")), chromedp.WaitVisible(chromedp.ID("error"))); err != nil {
		t.Fatalf("back from Deny: %v\n%s", err, html())
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("error"))); !strings.Contains(got, "Access was denied at 127.0.0.1") {
		t.Errorf("after Deny the page says %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("signin-button")), chromedp.WaitVisible(chromedp.ID("allow"))); err != nil {
		t.Fatalf("sign in again: %v\n%s", err, html())
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("allow")), chromedp.WaitVisible(chromedp.ID("signed-in"))); err != nil {
		t.Fatalf("back from the consent page: %v\n%s", err, html())
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, "http://"+s.host+s.prefix+"/signedin?ref=") {
		t.Errorf("back on %q, want the session's signedin page", show(s, loc))
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("signed-in"))); !strings.Contains(got, "Signed in with your provider as "+user+".") {
		t.Errorf("signed in: %q", got)
	}
	html()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("test")), chromedp.WaitVisible(chromedp.ID("result"))); err != nil {
		t.Fatal(err)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("result"))); !strings.Contains(got, "Connected — 3 messages, 3 unread") {
		t.Fatalf("test connection: %q\n%s", got, html())
	}
	html()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("done"))); err != nil {
		t.Fatalf("save: %v\n%s", err, html())
	}
	if h := html(); !strings.Contains(h, "its sign-in is in the keychain") {
		t.Fatalf("saved page:\n%s", h)
	}
	waitDone(t, s)

	path, _ := accounts.DefaultConfigPath()
	cfg, err := accounts.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := cfg.Account("work")
	if !ok || !a.OAuth2() || a.OAuthProvider != accounts.ProviderCustom || a.Username != user || a.Port != d.IMAPS {
		t.Fatalf("config: %+v", cfg.Accounts)
	}
	// The poller counts the mail with the grant from the keychain.
	vctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in, err := poller.Verify(vctx, a, &poller.Options{Timeout: 10 * time.Second, OAuth: oauth.NewSource(a, kc, nil)})
	if err != nil || in.Messages != 3 {
		t.Fatalf("poller with the saved sign-in: %+v, %v", in, err)
	}
	rt, err := kc.Get(context.Background(), oauth.KeychainUser("work"))
	if err != nil || rt == "" {
		t.Fatalf("no grant in the keychain: %v", err)
	}
	raw, _ := os.ReadFile(path)
	for i, p := range append(pages, string(raw), logs.String()) {
		if strings.Contains(p, rt) || strings.Contains(p, "code=") {
			t.Errorf("text %d holds the refresh token or a code:\n%s", i, p)
		}
	}
}
