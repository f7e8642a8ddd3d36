//go:build linux

package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/internal/trayhost"
	"mailsneaker/oauth"
)

// TestTraySignInAgain: an account that signs in (auth = "oauth2") at a
// provider, checked over POP3S on a Dovecot that takes only that
// provider's tokens. The provider revokes the sign-in: the real tray says
// "sign in again", with the error look, and its submenu has "Sign in
// again…". The click opens the account's page in the browser (a fake that
// records the file it is given); signing in there through the provider's
// consent and saving brings the account back, its mail counted, without a
// restart; `mailsneaker check` counts it too. No token is in the tray's
// argv, environment or debug log, nor in config.toml.
func TestTraySignInAgain(t *testing.T) {
	srv := testenv.StartOAuthServer(t)
	// Shorter than the renewal margin: every login asks the token
	// endpoint, so the revocation shows at the next check.
	srv.SetLifetime(30 * time.Second)
	d := testenv.StartDovecotOAuth(t, srv.Key)
	addr := testenv.SessionBus(t, false)
	testenv.GnomeKeyring(t, addr)
	h, c := trayDesktop(t, addr)
	opened := fakeBrowser(t, c)
	user, _ := d.AddUser(t)
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "first", "x"))
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "second", "x"))
	c.writeConfig(oauthAccountTOML("work", "pop3", d.POP3S, user, d.CAFile, srv) + "security = \"tls\"\ncount_existing = true\n")
	// The first sign-in, as the page would have saved it.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	kc := &accounts.Keychain{}
	first := srv.RefreshToken(user)
	if err := kc.Set(context.Background(), oauth.KeychainUser("work"), first); err != nil {
		t.Fatal(err)
	}

	tray := startTray(t, c, "-v") // debug logs: the page's and the poller's too
	item := h.WaitItem(t, tray.exited)
	item.WaitMenu(t, "the account's mail", func(m trayhost.Menu) bool { return len(m.Under("work — 2 new")) > 0 && whole(m) })

	srv.RevokeAll()
	signedOut := func(m trayhost.Menu) bool { return len(m.Under("work — 2 new, sign in again")) > 0 }
	// Check now makes the next login, which finds the sign-in revoked.
	m := item.WaitMenu(t, "a whole menu", whole)
	item.Click(t, m, "Check now")
	m = item.WaitMenu(t, "the whole signed-out menu", func(m trayhost.Menu) bool { return signedOut(m) && whole(m) })
	got := failedAt.ReplaceAllString(m.String(), "${1}Failed at … — next try … [-]")
	got = strings.ReplaceAll(got, "— next try … [-]", "[-]") // no retry is planned: either is fine here
	if want := "  Signed out: the sign-in expired or was revoked [-]\n  Sign in again…\n  ---\n"; !strings.Contains(got, want) {
		t.Errorf("menu:\n%s\nwant it to hold:\n%s", got, want)
	}
	p := item.WaitProps(t, "the tooltip of the revoked sign-in", func(p trayhost.Props) bool {
		return strings.HasPrefix(p.Tooltip, "2 new mails · 1 account needs attention\n")
	})
	if want := "2 new mails · 1 account needs attention\nwork: 2 new, sign in again"; p.Tooltip != want {
		t.Errorf("tooltip %q, want %q", p.Tooltip, want)
	}

	origin, path, page := visit(t, clickOpens(t, item, signedOut, "  Sign in again…", opened))
	if !strings.HasSuffix(path, "/edit?name=work") || !strings.Contains(page, `id="signin-button"`) ||
		!strings.Contains(page, "Sign in again with your provider") || strings.Contains(page, `id="password"`) {
		t.Fatalf("Sign in again… opened %q:\n%s", path[strings.LastIndex(path, "/"):], page)
	}
	form := url.Values{"mode": {"edit"}, "orig": {"work"}, "name": {"work"}, "protocol": {"pop3"}, "host": {"127.0.0.1"},
		"port": {fmt.Sprint(d.POP3S)}, "security": {"tls"}, "username": {user}, "ca_file": {d.CAFile},
		"login": {"custom"}, "oauth_client_id": {srv.ClientID}, "oauth_auth_url": {srv.AuthURL()},
		"oauth_token_url": {srv.TokenURL()}, "oauth_scopes": {"mail offline_access"}}
	form.Set("signin", "custom")
	goPage := postAccount(t, origin, path, form)
	form.Del("signin")
	_, rest, _ := strings.Cut(goPage, `content="0;url=`)
	authURL, _, _ := strings.Cut(rest, `"`)
	redirect := srv.Consent(t, html.UnescapeString(authURL), true)
	// The browser follows the redirect to the page's own listener, and on
	// into the session.
	resp, err := (&http.Client{Timeout: time.Minute}).Get(redirect.String())
	if err != nil {
		t.Fatal("following the redirect failed")
	}
	signed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(signed), `id="signed-in"`) {
		t.Fatalf("not signed in: %s\n%s", resp.Status, signed)
	}
	_, rest, _ = strings.Cut(string(signed), `name="signref" value="`)
	ref, _, _ := strings.Cut(rest, `"`)
	form.Set("signref", ref)
	form.Set("action", "save")
	saveAccount(t, origin, path, form)
	accountBack(t, item, tray, "work — 2 new")
	// What another user could read of the running tray.
	var proc []string
	for _, f := range []string{"cmdline", "environ"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", tray.cmd.Process.Pid, f))
		if err != nil {
			t.Fatal(err)
		}
		proc = append(proc, string(b))
	}
	tray.stop(t)

	rt, err := kc.Get(context.Background(), oauth.KeychainUser("work"))
	if err != nil || rt == first {
		t.Fatalf("the keychain does not hold the new sign-in: %v", err)
	}
	if _, counts := c.check(0); counts["work"] != 2 {
		t.Errorf("mailsneaker check counts %v, want work: 2", counts)
	}
	// Access tokens are JWTs here: they start with eyJ (`{"`).
	cfgRaw, _ := os.ReadFile(c.config)
	for what, text := range map[string]string{"the tray's debug log": tray.stderr.String(), "config.toml": string(cfgRaw),
		"the tray's command line": proc[0], "the tray's environment": proc[1]} {
		for _, tok := range []string{first, rt, "eyJ"} {
			if strings.Contains(text, tok) {
				t.Errorf("%s holds a token", what)
			}
		}
	}
}
