package oauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailsneaker/accounts"
)

// DefaultMargin is how long before its expiry an access token is renewed.
const DefaultMargin = 2 * time.Minute

// SourceOptions tune a Source. A nil *SourceOptions is the zero value.
type SourceOptions struct {
	// Timeout bounds a refresh; 0 means DefaultTimeout. (An oauth_command
	// has accounts.PasswordCommandTimeout.)
	Timeout time.Duration
	// Margin renews the access token this long before it expires; 0
	// means DefaultMargin.
	Margin time.Duration
	// HTTPClient makes the token requests; nil means a client of its own.
	HTTPClient *http.Client
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Source gives the access tokens of one oauth2 account to the poller. The
// access token is kept in memory only; the refresh token is read from the
// keychain when a new access token is needed, so a new sign-in is picked
// up without a restart. Its methods are safe for concurrent use.
type Source struct {
	a  accounts.Account
	kc *accounts.Keychain
	o  SourceOptions

	mu      sync.Mutex
	tok     *oauth2.Token // access token and expiry; no refresh token
	refresh string        // a grant not in the keychain (Grant.Source), or a rotated one the keychain refused
	noKC    bool          // Grant.Source: refresh is all there is
	dead    [32]byte      // hash of the refresh token the provider called invalid_grant
}

// NewSource returns the token source of account a (auth = "oauth2"); kc
// may be nil for the default keychain. It does no I/O.
func NewSource(a accounts.Account, kc *accounts.Keychain, o *SourceOptions) *Source {
	s := &Source{a: a, kc: kc}
	if o != nil {
		s.o = *o
	}
	if s.o.Timeout <= 0 {
		s.o.Timeout = DefaultTimeout
	}
	if s.o.Margin <= 0 {
		s.o.Margin = DefaultMargin
	}
	if s.o.Now == nil {
		s.o.Now = time.Now
	}
	return s
}

// Source returns a token source for account a that uses g, for a test
// login before g is saved; it reads and writes no keychain.
func (g *Grant) Source(a accounts.Account, o *SourceOptions) *Source {
	s := NewSource(a, nil, o)
	s.refresh, s.noKC = g.refresh, true
	s.tok = &oauth2.Token{AccessToken: g.access, Expiry: g.expiry}
	return s
}

// Account is the account the source is for.
func (s *Source) Account() accounts.Account { return s.a }

// Token returns an access token that is valid for at least the margin:
// the one in memory, or a new one from the token endpoint (or, with
// oauth_command set, the command's output, at every call). Errors are
// *Error; one that errors.Is ErrSignInAgain means the user must sign in
// again, and the token endpoint is not asked again until a new grant is
// stored.
func (s *Source) Token(ctx context.Context) (string, error) {
	if s.a.OAuthCommand != "" {
		tok, err := accounts.OAuthCommandToken(ctx, s.a)
		if err != nil {
			return "", &Error{Kind: ErrTokenCommand, Msg: fmt.Sprintf("cannot get an access token for account %q", s.a.Name), Err: err}
		}
		return tok, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken != "" && (s.tok.Expiry.IsZero() || s.o.Now().Add(s.o.Margin).Before(s.tok.Expiry)) {
		return s.tok.AccessToken, nil
	}
	s.tok = nil
	rt := s.refresh
	fromKeychain := rt == ""
	if fromKeychain {
		var err error
		rt, err = s.kc.Get(ctx, KeychainUser(s.a.Name))
		if errors.Is(err, accounts.ErrNoPassword) {
			return "", &Error{Kind: ErrSignInAgain, Msg: fmt.Sprintf("account %q is not signed in: sign in again", s.a.Name)}
		}
		if err != nil {
			return "", err // *accounts.KeychainError says what to do
		}
	}
	if sha256.Sum256([]byte(rt)) == s.dead {
		return "", &Error{Kind: ErrSignInAgain, Msg: fmt.Sprintf("the sign-in of account %q has expired or was revoked: sign in again", s.a.Name)}
	}
	cfg, err := Config(s.a, "")
	if err != nil {
		return "", err
	}
	rctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	t, err := cfg.TokenSource(withClient(rctx, s.o.HTTPClient, s.o.Timeout), &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		e := tokenEndpointError(s.a.Name, endpointHost(cfg.Endpoint.TokenURL), err)
		if errors.Is(e, ErrSignInAgain) {
			s.dead = sha256.Sum256([]byte(rt))
			if !s.noKC { // a new sign-in will be in the keychain
				s.refresh = ""
			}
		}
		return "", e
	}
	if t.RefreshToken != "" && t.RefreshToken != rt { // rotated (Microsoft does)
		if !s.noKC {
			s.refresh = ""
		}
		if !fromKeychain || s.kc.Set(ctx, KeychainUser(s.a.Name), t.RefreshToken) != nil {
			s.refresh = t.RefreshToken
		}
	}
	s.tok = &oauth2.Token{AccessToken: t.AccessToken, Expiry: t.Expiry}
	return t.AccessToken, nil
}

// Invalidate drops token if it is the access token in memory: the server
// refused it, so the next Token asks for a new one.
func (s *Source) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken == token {
		s.tok = nil
	}
}

// Sources keeps one Source per account, so that every checker of an
// account shares its access token. The zero value is ready; KC is the
// keychain (nil: the default).
type Sources struct {
	KC *accounts.Keychain
	// Options are given to every new Source.
	Options *SourceOptions

	mu sync.Mutex
	m  map[string]*Source
}

// For returns the Source of account a; a changed account (new client ID,
// provider, ...) gets a new one.
func (ss *Sources) For(a accounts.Account) *Source {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s, ok := ss.m[a.Name]; ok && sameOAuth(s.a, a) {
		return s
	}
	if ss.m == nil {
		ss.m = map[string]*Source{}
	}
	s := NewSource(a, ss.KC, ss.Options)
	ss.m[a.Name] = s
	return s
}

// sameOAuth reports whether a and b get their tokens the same way.
func sameOAuth(a, b accounts.Account) bool {
	return SameClient(a, b) && a.Auth == b.Auth && a.Username == b.Username && a.OAuthCommand == b.OAuthCommand
}

// SameClient reports whether a and b name the same OAuth2 client:
// provider, client ID and secret, endpoints and scopes. A refresh token
// given for one works for the other.
func SameClient(a, b accounts.Account) bool {
	return a.OAuthProvider == b.OAuthProvider && a.OAuthClientID == b.OAuthClientID &&
		a.OAuthClientSecret == b.OAuthClientSecret && a.OAuthAuthURL == b.OAuthAuthURL &&
		a.OAuthTokenURL == b.OAuthTokenURL && slices.Equal(a.OAuthScopes, b.OAuthScopes)
}
