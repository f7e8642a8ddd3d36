package testenv

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// OAuthServer is a fake OAuth2 authorization server on loopback: the
// authorization code grant with PKCE (S256 only), refresh tokens,
// revocation and expiry. Its access tokens are HS256 JWTs that a
// StartDovecotOAuth Dovecot with the same Key accepts. The consent page
// has an "Allow" (id "allow") and a "Deny" (id "deny") button, for a
// browser test; Consent presses one without a browser.
type OAuthServer struct {
	URL      string   // http://127.0.0.1:PORT
	Key      []byte   // HS256 key of the access tokens
	ClientID string   // the only client it knows
	Scopes   []string // the scopes it grants; others are invalid_scope

	srv *httptest.Server

	mu        sync.Mutex
	lifetime  time.Duration
	rotate    bool
	hang      bool
	garbage   bool
	requests  map[string]authRequest // consent page id → request
	codes     map[string]authRequest // code → request
	refresh   map[string]string      // refresh token → user; revoked ones are gone
	refreshes int
	issued    []string // every token handed out, for leak checks
	exchanges int
	hung      chan struct{} // closed on Close: ends hanging token requests
}

type authRequest struct {
	user, clientID, redirect, state, challenge string
}

// StartOAuthServer starts a fake authorization server for the test, with
// client ID "mailsneaker-test", scopes "mail" and "offline_access", and
// one-hour access tokens; it stops in t.Cleanup.
func StartOAuthServer(t testing.TB) *OAuthServer {
	t.Helper()
	s := &OAuthServer{Key: make([]byte, 32), ClientID: "mailsneaker-test", Scopes: []string{"mail", "offline_access"},
		lifetime: time.Hour, requests: map[string]authRequest{}, codes: map[string]authRequest{},
		refresh: map[string]string{}, hung: make(chan struct{})}
	rand.Read(s.Key)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /consent", s.consent)
	mux.HandleFunc("POST /token", s.token)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(func() {
		close(s.hung)
		s.srv.Close()
	})
	return s
}

// AuthURL is the authorization endpoint.
func (s *OAuthServer) AuthURL() string { return s.URL + "/authorize" }

// TokenURL is the token endpoint.
func (s *OAuthServer) TokenURL() string { return s.URL + "/token" }

// SetLifetime sets the lifetime of the access tokens issued from now on.
func (s *OAuthServer) SetLifetime(d time.Duration) { s.mu.Lock(); s.lifetime = d; s.mu.Unlock() }

// SetRotate makes each refresh issue a new refresh token and revoke the old.
func (s *OAuthServer) SetRotate(on bool) { s.mu.Lock(); s.rotate = on; s.mu.Unlock() }

// SetHang makes the token endpoint answer nothing until the client gives up.
func (s *OAuthServer) SetHang(on bool) { s.mu.Lock(); s.hang = on; s.mu.Unlock() }

// SetGarbage makes the token endpoint answer 200 with a body that is not JSON.
func (s *OAuthServer) SetGarbage(on bool) { s.mu.Lock(); s.garbage = on; s.mu.Unlock() }

// Issued lists every access and refresh token the server handed out.
func (s *OAuthServer) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// RevokeAll revokes every refresh token: refreshing gives invalid_grant.
func (s *OAuthServer) RevokeAll() { s.mu.Lock(); clear(s.refresh); s.mu.Unlock() }

// Refreshes is how many refresh_token grants succeeded.
func (s *OAuthServer) Refreshes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.refreshes }

// Requests is how many token requests came in, refused ones included.
func (s *OAuthServer) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.exchanges }

// AccessToken mints an access token for user valid for lifetime (negative:
// already expired), as an oauth_command would print it.
func (s *OAuthServer) AccessToken(user string, lifetime time.Duration) string {
	now := time.Now()
	return s.jwt(user, now, now.Add(lifetime))
}

// RefreshToken makes a refresh token for user, as after a sign-in.
func (s *OAuthServer) RefreshToken(user string) string {
	rt := randomString()
	s.mu.Lock()
	s.refresh[rt] = user
	s.issued = append(s.issued, rt)
	s.mu.Unlock()
	return rt
}

func (s *OAuthServer) jwt(user string, iat, exp time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(map[string]any{"sub": user, "email": user, "iat": iat.Unix(), "exp": exp.Unix(), "jti": randomString()})
	msg := head + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, s.Key)
	mac.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(mac.Sum(nil))
}

func randomString() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<title>Fake consent</title>
<h1>Allow MailSneaker to read the mail of {{.User}}?</h1>
<form method="post" action="/consent">
<input type="hidden" name="id" value="{{.ID}}">
<button id="allow" name="decision" value="allow">Allow</button>
<button id="deny" name="decision" value="deny">Deny</button>
</form>
`))

func (s *OAuthServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme != "http" || (ru.Hostname() != "127.0.0.1" && ru.Hostname() != "localhost" && ru.Hostname() != "::1") {
		http.Error(w, "redirect_uri must be http to loopback", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != s.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) {
		v.Set("state", q.Get("state"))
		ru.RawQuery = v.Encode()
		http.Redirect(w, r, ru.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"code with PKCE S256 only"}})
		return
	}
	for _, sc := range strings.Fields(q.Get("scope")) {
		if !slices.Contains(s.Scopes, sc) {
			back(url.Values{"error": {"invalid_scope"}, "error_description": {"unknown scope " + sc}})
			return
		}
	}
	user := q.Get("login_hint")
	if user == "" {
		user = "user1"
	}
	id := randomString()
	s.mu.Lock()
	s.requests[id] = authRequest{user: user, clientID: q.Get("client_id"), redirect: redirect, state: q.Get("state"), challenge: q.Get("code_challenge")}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	consentPage.Execute(w, struct{ User, ID string }{user, id})
}

func (s *OAuthServer) consent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	req, ok := s.requests[r.FormValue("id")]
	delete(s.requests, r.FormValue("id"))
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no such request", http.StatusBadRequest)
		return
	}
	ru, _ := url.Parse(req.redirect)
	v := url.Values{"state": {req.state}}
	if r.FormValue("decision") == "allow" {
		code := randomString()
		s.mu.Lock()
		s.codes[code] = req
		s.mu.Unlock()
		v.Set("code", code)
	} else {
		v.Set("error", "access_denied")
		v.Set("error_description", "The user said no.")
	}
	ru.RawQuery = v.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// Consent opens authURL and presses Allow (or Deny) on the consent page
// without a browser, and returns the redirect the browser would follow.
func (s *OAuthServer) Consent(t testing.TB, authURL string, allow bool) *url.URL {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound { // refused before consent (invalid_scope, ...)
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	_, rest, ok := strings.Cut(string(body), `name="id" value="`)
	id, _, _ := strings.Cut(rest, `"`)
	if !ok || resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %s\n%s", resp.Status, body)
	}
	decision := "deny"
	if allow {
		decision = "allow"
	}
	resp, err = c.PostForm(s.URL+"/consent", url.Values{"id": {id}, "decision": {decision}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("consent: %s %v", resp.Status, err)
	}
	return u
}

func (s *OAuthServer) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.exchanges++
	hang, garbage, lifetime, rotate := s.hang, s.garbage, s.lifetime, s.rotate
	s.mu.Unlock()
	if hang {
		select {
		case <-r.Context().Done():
		case <-s.hung:
		}
		return
	}
	if garbage {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "<html>gateway says hello</html>")
		return
	}
	fail := func(code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	clientID, _, ok := r.BasicAuth()
	if !ok {
		clientID = r.FormValue("client_id")
	}
	if clientID != s.ClientID {
		fail("invalid_client", "unknown client")
		return
	}
	var user, newRefresh string
	switch r.FormValue("grant_type") {
	case "authorization_code":
		s.mu.Lock()
		req, ok := s.codes[r.FormValue("code")]
		delete(s.codes, r.FormValue("code")) // one use
		s.mu.Unlock()
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		switch {
		case !ok:
			fail("invalid_grant", "unknown or used code")
			return
		case r.FormValue("redirect_uri") != req.redirect:
			fail("invalid_grant", "redirect_uri differs")
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge:
			fail("invalid_grant", "PKCE verification failed")
			return
		}
		user, newRefresh = req.user, randomString()
	case "refresh_token":
		rt := r.FormValue("refresh_token")
		s.mu.Lock()
		u, ok := s.refresh[rt]
		if ok {
			s.refreshes++
			if rotate {
				delete(s.refresh, rt)
				newRefresh = randomString()
			}
		}
		s.mu.Unlock()
		if !ok {
			fail("invalid_grant", "the refresh token was revoked")
			return
		}
		user = u
	default:
		fail("unsupported_grant_type", "")
		return
	}
	access := s.AccessToken(user, lifetime)
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(lifetime.Seconds())}
	s.mu.Lock()
	s.issued = append(s.issued, access)
	if newRefresh != "" {
		s.refresh[newRefresh] = user
		s.issued = append(s.issued, newRefresh)
		resp["refresh_token"] = newRefresh
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(resp)
}
