package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

const redirect = "http://127.0.0.1:4321" + CallbackPath

// testAccount is an oauth2 account of the fake server.
func testAccount(as *testenv.OAuthServer, user string) accounts.Account {
	return accounts.Account{Name: "fake", Protocol: accounts.IMAP, Host: "127.0.0.1", Username: user,
		Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderCustom, OAuthClientID: as.ClientID,
		OAuthAuthURL: as.AuthURL(), OAuthTokenURL: as.TokenURL(), OAuthScopes: []string{"mail", "offline_access"}}
}

func TestFlowSignsIn(t *testing.T) {
	as := testenv.StartOAuthServer(t)
	a := testAccount(as, "alice")
	f, err := NewFlow(a, redirect, nil)
	if err != nil {
		t.Fatal(err)
	}
	au, _ := url.Parse(f.AuthCodeURL())
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") != f.State() || len(f.State()) < 20 {
		t.Fatalf("auth URL lacks PKCE S256 or state: %s", au)
	}
	if strings.Contains(au.String(), f.verifier) {
		t.Fatal("the verifier is in the auth URL")
	}
	back := as.Consent(t, f.AuthCodeURL(), true)
	if back.Host != "127.0.0.1:4321" || back.Path != CallbackPath {
		t.Fatalf("redirect to %s", back)
	}
	g, err := f.Finish(context.Background(), back.Query())
	if err != nil {
		t.Fatal(err)
	}
	if g.refresh == "" || g.access == "" {
		t.Fatal("grant without tokens")
	}
	for _, s := range []string{fmt.Sprint(g), fmt.Sprintf("%v %+v %#v %s", g, *g, g, g)} {
		if strings.Contains(s, g.refresh) || strings.Contains(s, g.access) {
			t.Fatalf("a formatted grant shows a token: %s", s)
		}
	}
	// The first access token serves a test login, without the keychain.
	tok, err := g.Source(a, nil).Token(context.Background())
	if err != nil || tok != g.access {
		t.Fatalf("Grant.Source: %v", err)
	}
}

// TestFlowBadRedirects: each bad redirect is an *Error of its kind, with
// no grant; a wrong state leaves the flow open, a second redirect does not
// get a second grant.
func TestFlowBadRedirects(t *testing.T) {
	as := testenv.StartOAuthServer(t)
	a := testAccount(as, "bob")
	ctx := context.Background()
	finish := func(f *Flow, q url.Values, kind error, words string) {
		t.Helper()
		g, err := f.Finish(ctx, q)
		var e *Error
		if g != nil || !errors.As(err, &e) || !errors.Is(err, kind) || !strings.Contains(err.Error(), words) {
			t.Fatalf("Finish = %v, %v; want an *Error of kind %v saying %q", g, err, kind, words)
		}
	}

	f, _ := NewFlow(a, redirect, nil)
	finish(f, as.Consent(t, f.AuthCodeURL(), false).Query(), ErrAccessDenied, "access was denied")
	finish(f, url.Values{"state": {f.State()}, "code": {"x"}}, ErrFlowDone, "already finished")

	f, _ = NewFlow(a, redirect, nil)
	back := as.Consent(t, f.AuthCodeURL(), true).Query()
	wrong := url.Values{"state": {"forged"}, "code": back["code"]}
	finish(f, wrong, ErrWrongState, "wrong state")
	if _, err := f.Finish(ctx, back); err != nil { // still open after the forgery
		t.Fatalf("the right redirect after a wrong one: %v", err)
	}
	finish(f, back, ErrFlowDone, "already finished")

	bad := a
	bad.OAuthScopes = []string{"mail", "calendar"}
	f, _ = NewFlow(bad, redirect, nil)
	finish(f, as.Consent(t, f.AuthCodeURL(), true).Query(), ErrProvider, "invalid_scope")

	// A code from another flow fails PKCE at the token endpoint.
	f1, _ := NewFlow(a, redirect, nil)
	f2, _ := NewFlow(a, redirect, nil)
	code := as.Consent(t, f1.AuthCodeURL(), true).Query().Get("code")
	finish(f2, url.Values{"state": {f2.State()}, "code": {code}}, ErrProvider, "invalid_grant")
}

func TestFlowTokenEndpointHangsOrSendsGarbage(t *testing.T) {
	as := testenv.StartOAuthServer(t)
	a := testAccount(as, "carol")
	for _, tc := range []struct {
		name  string
		set   func(bool)
		words string
	}{
		{"hang", as.SetHang, "did not answer in time"},
		{"garbage", as.SetGarbage, "not a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := NewFlow(a, redirect, &FlowOptions{Timeout: 300 * time.Millisecond})
			q := as.Consent(t, f.AuthCodeURL(), true).Query()
			tc.set(true)
			defer tc.set(false)
			err := testenv.Within(t, 10*time.Second, func() error {
				_, err := f.Finish(context.Background(), q)
				return err
			})
			if !errors.Is(err, ErrTokenEndpoint) || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("Finish = %v, want ErrTokenEndpoint saying %q", err, tc.words)
			}
		})
	}
}

// clock is a settable clock for Source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestSourceRefreshesBeforeExpiryAndStopsOnInvalidGrant(t *testing.T) {
	as := testenv.StartOAuthServer(t)
	as.SetRotate(true)
	a := testAccount(as, "dave")
	ck := &clock{now: time.Now()}
	g := &Grant{refresh: as.RefreshToken("dave")}
	s := g.Source(a, &SourceOptions{Now: ck.Now})
	s.tok = nil
	ctx := context.Background()
	t1, err := s.Token(ctx)
	if err != nil || as.Refreshes() != 1 {
		t.Fatalf("first Token: %v (refreshes %d)", err, as.Refreshes())
	}
	if t2, _ := s.Token(ctx); t2 != t1 || as.Refreshes() != 1 {
		t.Fatal("a valid access token was not reused")
	}
	ck.now = ck.now.Add(time.Hour - DefaultMargin + time.Second) // inside the margin
	t3, err := s.Token(ctx)
	if err != nil || t3 == t1 || as.Refreshes() != 2 {
		t.Fatalf("no refresh near expiry: %v (refreshes %d)", err, as.Refreshes())
	}
	s.Invalidate(t3) // the server refused it
	if _, err := s.Token(ctx); err != nil || as.Refreshes() != 3 {
		t.Fatalf("no refresh after Invalidate: %v", err)
	}

	as.RevokeAll()
	s.Invalidate(s.tok.AccessToken)
	_, err = s.Token(ctx)
	if !errors.Is(err, ErrSignInAgain) {
		t.Fatalf("after revocation: %v, want ErrSignInAgain", err)
	}
	n := as.Requests()
	for range 3 {
		if _, err := s.Token(ctx); !errors.Is(err, ErrSignInAgain) {
			t.Fatalf("again: %v", err)
		}
	}
	if as.Requests() != n {
		t.Fatalf("the token endpoint was asked %d more times after invalid_grant", as.Requests()-n)
	}
}

func TestSourceRefreshHangs(t *testing.T) {
	as := testenv.StartOAuthServer(t)
	as.SetHang(true)
	s := (&Grant{refresh: as.RefreshToken("erin")}).Source(testAccount(as, "erin"), &SourceOptions{Timeout: 300 * time.Millisecond})
	s.tok = nil
	err := testenv.Within(t, 10*time.Second, func() error { _, err := s.Token(context.Background()); return err })
	if !errors.Is(err, ErrTokenEndpoint) || errors.Is(err, ErrSignInAgain) {
		t.Fatalf("Token = %v, want ErrTokenEndpoint", err)
	}
}

func TestConfigProviders(t *testing.T) {
	a := accounts.Account{Name: "m", Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderMicrosoft}
	if _, err := Config(a, ""); !errors.Is(err, ErrNoClientID) || !strings.Contains(err.Error(), "oauth_client_id") {
		t.Fatalf("no client ID: %v", err)
	}
	a.OAuthClientID = "cid"
	c, err := Config(a, redirect)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Endpoint.TokenURL, "/common/oauth2/v2.0/token") || !strings.Contains(strings.Join(c.Scopes, " "), "IMAP.AccessAsUser.All") {
		t.Fatalf("microsoft: %+v", c)
	}
	a.OAuthProvider = accounts.ProviderGoogle
	f, err := NewFlow(a, redirect, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := f.AuthCodeURL(); !strings.Contains(u, "access_type=offline") || !strings.Contains(u, url.QueryEscape("https://mail.google.com/")) {
		t.Fatalf("google auth URL: %s", u)
	}
}

func TestOAuthCommandSource(t *testing.T) {
	a := accounts.Account{Name: "m", Auth: accounts.AuthOAuth2, OAuthCommand: "echo tok-1"}
	if tok, err := NewSource(a, nil, nil).Token(context.Background()); err != nil || tok != "tok-1" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	a.OAuthCommand = "echo SECRET-out; echo 'refresh failed' >&2; exit 1"
	_, err := NewSource(a, nil, nil).Token(context.Background())
	if !errors.Is(err, ErrTokenCommand) || !strings.Contains(err.Error(), "refresh failed") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("failing command: %v", err)
	}
}

func TestSourcesShareOnePerAccount(t *testing.T) {
	var ss Sources
	a := accounts.Account{Name: "m", Username: "me", Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderMicrosoft}
	s1 := ss.For(a)
	if ss.For(a) != s1 {
		t.Fatal("a second checker of the account got its own source")
	}
	b := a
	b.Username = "someone-else"
	if ss.For(b) == s1 {
		t.Fatal("another user kept the old source (and its access token)")
	}
	c := b
	c.OAuthClientID = "other"
	if ss.For(c) == ss.For(b) {
		t.Fatal("another client kept the old source")
	}
}
