package oauth

import (
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"mailsneaker/accounts"
)

// Default client IDs and secrets, stamped by packagers with
// -ldflags "-X mailsneaker/oauth.googleClientID=…" (see the package doc).
// They are variables only because -X needs them to be; nothing assigns them.
var (
	googleClientID        string
	googleClientSecret    string // Google desktop clients have one; it is not secret
	microsoftClientID     string
	microsoftClientSecret string // public clients have none; for completeness
)

// Provider is an OAuth2 provider with built-in endpoints and scopes.
type Provider struct {
	Name     string   // "google" or "microsoft", as in oauth_provider
	Title    string   // "Google", "Microsoft": for "Sign in with …"
	AuthURL  string   // authorization endpoint
	TokenURL string   // token endpoint
	Scopes   []string // what IMAP and POP3 need, plus a refresh token
	// DefaultClientID and DefaultClientSecret are the build's defaults
	// (-ldflags -X); "" when the build has none.
	DefaultClientID, DefaultClientSecret string
	authParams                           map[string]string
}

// Providers lists the built-in providers: google, then microsoft.
func Providers() []Provider {
	return []Provider{
		{
			Name: accounts.ProviderGoogle, Title: "Google",
			AuthURL:  "https://accounts.google.com/o/oauth2/auth",
			TokenURL: "https://oauth2.googleapis.com/token",
			Scopes:   []string{"https://mail.google.com/"},
			// offline: a refresh token; consent: a new one at each sign-in,
			// or Google sends none after the first.
			authParams:      map[string]string{"access_type": "offline", "prompt": "consent"},
			DefaultClientID: googleClientID, DefaultClientSecret: googleClientSecret,
		},
		{
			Name: accounts.ProviderMicrosoft, Title: "Microsoft",
			AuthURL:  "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
			TokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
			// Unprefixed scopes would mean Microsoft Graph: one token is for
			// one resource, so both carry outlook.office.com.
			Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All",
				"https://outlook.office.com/POP.AccessAsUser.All", "offline_access"},
			DefaultClientID: microsoftClientID, DefaultClientSecret: microsoftClientSecret,
		},
	}
}

// LookupProvider returns the built-in provider called name.
func LookupProvider(name string) (Provider, bool) {
	for _, p := range Providers() {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// ErrNoClientID is the kind of Config's error when neither the account nor
// the build names a client ID.
var ErrNoClientID = errors.New("no OAuth2 client ID")

// Config returns the OAuth2 client of account a (auth = "oauth2"), with
// redirectURL as its redirect URL ("" for refreshing only). It fails when a
// has no provider, or when neither oauth_client_id nor the build gives a
// client ID.
func Config(a accounts.Account, redirectURL string) (*oauth2.Config, error) {
	c, _, err := config(a, redirectURL)
	return c, err
}

// config is Config plus the provider's extra authorization parameters.
func config(a accounts.Account, redirectURL string) (*oauth2.Config, []oauth2.AuthCodeOption, error) {
	if !a.OAuth2() {
		return nil, nil, &Error{Kind: ErrNoClientID, Msg: fmt.Sprintf("account %q does not use auth = \"oauth2\"", a.Name)}
	}
	c := &oauth2.Config{ClientID: a.OAuthClientID, ClientSecret: a.OAuthClientSecret, RedirectURL: redirectURL}
	var opts []oauth2.AuthCodeOption
	switch a.OAuthProvider {
	case accounts.ProviderCustom:
		if a.OAuthAuthURL == "" || a.OAuthTokenURL == "" {
			return nil, nil, &Error{Kind: ErrNoClientID, Msg: fmt.Sprintf("account %q: oauth_provider = \"custom\" needs oauth_auth_url and oauth_token_url", a.Name)}
		}
		c.Endpoint = oauth2.Endpoint{AuthURL: a.OAuthAuthURL, TokenURL: a.OAuthTokenURL}
		c.Scopes = append([]string(nil), a.OAuthScopes...)
	default:
		p, ok := LookupProvider(a.OAuthProvider)
		if !ok {
			return nil, nil, &Error{Kind: ErrNoClientID, Msg: fmt.Sprintf("account %q: oauth_provider %q is not known (use \"google\", \"microsoft\" or \"custom\")", a.Name, a.OAuthProvider)}
		}
		c.Endpoint = oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL}
		c.Scopes = p.Scopes
		if c.ClientID == "" {
			c.ClientID, c.ClientSecret = p.DefaultClientID, p.DefaultClientSecret
		}
		for k, v := range p.authParams {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	if c.ClientID == "" {
		return nil, nil, &Error{Kind: ErrNoClientID, Msg: fmt.Sprintf("account %q has no oauth_client_id and this build has no default for %s: register a desktop app with the provider (README, \"Outlook and Gmail\") and set oauth_client_id", a.Name, a.OAuthProvider)}
	}
	return c, opts, nil
}
