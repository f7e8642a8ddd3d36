package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailsneaker/accounts"
)

// CallbackPath is a path the setup page may use for the redirect URL.
const CallbackPath = "/oauth/callback"

// DefaultTimeout bounds a token request (the code exchange, a refresh).
const DefaultTimeout = 30 * time.Second

// FlowOptions tune a Flow. A nil *FlowOptions is the zero value.
type FlowOptions struct {
	// Timeout bounds the code exchange; 0 means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient makes the token request; nil means a client of its own
	// (tests: one that trusts a test CA).
	HTTPClient *http.Client
}

// Flow is one sign-in: the authorization code grant with PKCE (RFC 7636,
// S256) and a random state, for an app listening on loopback (RFC 8252).
// Its methods are safe for concurrent use.
type Flow struct {
	acct     accounts.Account
	cfg      *oauth2.Config
	opts     []oauth2.AuthCodeOption
	verifier string
	state    string
	timeout  time.Duration
	client   *http.Client

	mu   sync.Mutex
	used bool
}

// NewFlow starts a sign-in for account a (auth = "oauth2"; the account
// need not be saved yet) with redirectURL, an http://127.0.0.1:PORT/...
// address the caller serves. It does no I/O.
func NewFlow(a accounts.Account, redirectURL string, o *FlowOptions) (*Flow, error) {
	cfg, opts, err := config(a, redirectURL)
	if err != nil {
		return nil, err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("sign-in state: %w", err)
	}
	f := &Flow{acct: a, cfg: cfg, opts: opts, verifier: oauth2.GenerateVerifier(),
		state: base64.RawURLEncoding.EncodeToString(b[:]), timeout: DefaultTimeout}
	if o != nil {
		if o.Timeout > 0 {
			f.timeout = o.Timeout
		}
		f.client = o.HTTPClient
	}
	return f, nil
}

// AuthCodeURL is the address to open in the system browser. It carries
// the state, the S256 challenge and, as login_hint, the account's username.
func (f *Flow) AuthCodeURL() string {
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier)}, f.opts...)
	if f.acct.Username != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", f.acct.Username))
	}
	return f.cfg.AuthCodeURL(f.state, opts...)
}

// State is the flow's state parameter: it tells the redirects of several
// open flows apart. It is not a secret once the browser has it, but it is
// no use to log either.
func (f *Flow) State() string { return f.state }

// Finish completes the flow with the query of the redirect to the
// callback: it checks the state, then exchanges the code for tokens within
// FlowOptions.Timeout. Only the first redirect with the right state is
// taken; later ones fail with ErrFlowDone. A redirect with the wrong state
// fails with ErrWrongState and leaves the flow open. Errors are *Error; the
// grant is not saved (SaveGrant does that).
func (f *Flow) Finish(ctx context.Context, q url.Values) (*Grant, error) {
	host := endpointHost(f.cfg.Endpoint.TokenURL)
	authHost := endpointHost(f.cfg.Endpoint.AuthURL)
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		return nil, &Error{Kind: ErrWrongState, Msg: "this sign-in answer is not for the sign-in in progress (wrong state): start the sign-in again from the page"}
	}
	f.mu.Lock()
	used := f.used
	f.used = true
	f.mu.Unlock()
	if used {
		return nil, &Error{Kind: ErrFlowDone, Msg: "this sign-in has already finished: start a new one from the page if needed"}
	}
	if code := q.Get("error"); code != "" {
		return nil, redirectError(authHost, code, q.Get("error_description"))
	}
	code := q.Get("code")
	if code == "" {
		return nil, &Error{Kind: ErrProvider, Msg: fmt.Sprintf("%s sent the browser back without an authorization code: start the sign-in again", authHost)}
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	tok, err := f.cfg.Exchange(withClient(ctx, f.client, f.timeout), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		e := tokenEndpointError(f.acct.Name, host, err)
		if e.Kind == ErrSignInAgain { // invalid_grant on a fresh code: stale or replayed
			e = &Error{Kind: ErrProvider, Msg: fmt.Sprintf("%s refused the authorization code (invalid_grant): start the sign-in again", host)}
		}
		return nil, e
	}
	if tok.RefreshToken == "" {
		return nil, &Error{Kind: ErrNoRefreshToken, Msg: fmt.Sprintf("%s gave no refresh token, so MailSneaker could not stay signed in: check that the app registration allows offline access", host)}
	}
	return &Grant{refresh: tok.RefreshToken, access: tok.AccessToken, expiry: tok.Expiry}, nil
}

// redirectError explains an error= in the redirect (RFC 6749 §4.1.2.1).
func redirectError(host, code, desc string) *Error {
	code = said(code)
	var e *Error
	switch code {
	case "access_denied":
		e = &Error{Kind: ErrAccessDenied, Msg: fmt.Sprintf("access was denied at %s: nothing was saved; sign in again and allow access to read mail", host)}
	case "invalid_scope":
		e = &Error{Kind: ErrProvider, Msg: fmt.Sprintf("%s refused the scopes asked for (invalid_scope): check oauth_scopes, or the API permissions of the app registration", host)}
	case "unauthorized_client", "invalid_client", "invalid_request":
		e = &Error{Kind: ErrProvider, Msg: fmt.Sprintf("%s refused the sign-in (%s): check oauth_client_id and the app registration (a desktop app with a loopback redirect)", host, code)}
	default:
		e = &Error{Kind: ErrProvider, Msg: fmt.Sprintf("%s refused the sign-in (%s)", host, code)}
	}
	if d := said(desc); d != "" {
		e.Msg += "; it says: " + d
	}
	return e
}

// withClient puts the HTTP client for token requests into ctx: a copy of
// hc, or one with timeout as its overall deadline. Either follows no
// redirect: a token request is a POST of the code, the PKCE verifier, the
// client secret or the refresh token, and a 307 or 308 would send that
// body again to wherever the answer points (another host, plain http).
func withClient(ctx context.Context, hc *http.Client, timeout time.Duration) context.Context {
	c := &http.Client{Timeout: timeout}
	if hc != nil {
		cp := *hc
		c = &cp
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return context.WithValue(ctx, oauth2.HTTPClient, c)
}

// endpointHost is the host of an endpoint, for messages.
func endpointHost(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return "the provider"
}
