package oauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"mailsneaker/accounts"
)

// TestTokenEndpointRedirectNotFollowed: a token endpoint that answers 307
// or 308 to another host must not get the request's body (the code and
// verifier, or the refresh token) sent on there; the answer is a refusal.
func TestTokenEndpointRedirectNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var stolen atomic.Int32
			var got atomic.Value
			thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got.Store(string(b))
				stolen.Add(1)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":3600}`)
			}))
			defer thief.Close()
			endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, thief.URL+"/token", status)
			}))
			defer endpoint.Close()
			a := accounts.Account{Name: "acct", Protocol: accounts.IMAP, Host: "127.0.0.1", Username: "u",
				Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderCustom, OAuthClientID: "cid",
				OAuthClientSecret: "client-secret-value",
				OAuthAuthURL:      endpoint.URL + "/auth", OAuthTokenURL: endpoint.URL + "/token"}

			// The code exchange.
			for _, hc := range []*http.Client{nil, {}} {
				f, err := NewFlow(a, redirect, &FlowOptions{HTTPClient: hc})
				if err != nil {
					t.Fatal(err)
				}
				g, err := f.Finish(context.Background(), url.Values{"state": {f.State()}, "code": {"the-code"}})
				if g != nil || !errors.Is(err, ErrTokenEndpoint) {
					t.Fatalf("Finish = %v, %v; want a token endpoint error", g, err)
				}
			}
			// A refresh.
			g := &Grant{refresh: "the-refresh-token"}
			tok, err := g.Source(a, nil).Token(context.Background())
			if tok != "" || !errors.Is(err, ErrTokenEndpoint) {
				t.Fatalf("Token = %q, %v; want a token endpoint error", tok, err)
			}
			if n := stolen.Load(); n != 0 {
				body, _ := got.Load().(string)
				t.Fatalf("the redirect was followed %d times; the other host got %q", n, body)
			}
			if strings.Contains(err.Error(), "the-refresh-token") {
				t.Fatalf("error shows the refresh token: %v", err)
			}
		})
	}
}
