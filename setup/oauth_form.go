package setup

import (
	"net/http"
	"strings"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
)

// oauthForm is the sign-in part of the account form: how the account logs
// in and, for "Sign in with …", which OAuth2 client. None of it is secret
// (a desktop client's "secret" is not: it ships in every copy); the grant a
// sign-in gives stays on the server, behind SignRef.
type oauthForm struct {
	// Login is "password", or the provider of an OAuth2 sign-in: "google",
	// "microsoft", "custom". "" is the default: a password, unless
	// Detected names a provider.
	Login        string
	Detected     string // the provider DetectOAuth found for the address, if any
	DetectedVia  string // how ("address", "MX aspmx.l.google.com")
	ClientID     string
	ClientSecret string
	AuthURL      string // custom only
	TokenURL     string // custom only
	ScopesText   string // custom only: separated by spaces
	SignRef      string // reference to a finished sign-in kept on the server
}

// parseOAuthForm reads the sign-in fields of r.
func parseOAuthForm(r *http.Request) oauthForm {
	v := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	o := oauthForm{Login: v("login"), Detected: v("detected"), DetectedVia: v("detected_via"),
		ClientID: v("oauth_client_id"), ClientSecret: v("oauth_client_secret"), AuthURL: v("oauth_auth_url"),
		TokenURL: v("oauth_token_url"), ScopesText: v("oauth_scopes"), SignRef: v("signref")}
	if o.Detected != accounts.ProviderGoogle && o.Detected != accounts.ProviderMicrosoft {
		o.Detected, o.DetectedVia = "", ""
	}
	return o
}

// OAuth reports whether the form signs in with OAuth2.
func (o *oauthForm) OAuth() bool { return o.Login != "" && o.Login != "password" }

// Custom reports whether the form names its own OAuth2 endpoints.
func (o *oauthForm) Custom() bool { return o.Login == accounts.ProviderCustom }

// ProviderTitle is the provider's name for "Sign in with …".
func (o *oauthForm) ProviderTitle() string {
	if p, ok := oauth.LookupProvider(o.Login); ok {
		return p.Title
	}
	return "your provider"
}

// NeedsClientID reports whether the build has no client ID for the chosen
// provider, so that the user must name one.
func (o *oauthForm) NeedsClientID() bool {
	p, ok := oauth.LookupProvider(o.Login)
	return !ok || p.DefaultClientID == ""
}

// applyOAuth sets the auth keys of a (built on base) from the form. A form
// without a sign-in choice keeps base's: older pages and the CLI's tests
// post none.
func (o *oauthForm) applyOAuth(a *accounts.Account, base accounts.Account) {
	if o.Login == "" {
		return
	}
	clearOAuth(a)
	if !o.OAuth() {
		if base.Auth != "" {
			a.Auth = accounts.AuthPassword
		}
		return
	}
	a.Auth, a.OAuthProvider = accounts.AuthOAuth2, o.Login
	a.OAuthClientID, a.OAuthClientSecret = o.ClientID, o.ClientSecret
	a.PasswordCommand = ""
	// oauth_command and sasl_mechanism are not on the page: keep them.
	a.OAuthCommand, a.SASLMechanism = base.OAuthCommand, base.SASLMechanism
	if o.Custom() {
		a.OAuthAuthURL, a.OAuthTokenURL = o.AuthURL, o.TokenURL
		a.OAuthScopes = strings.Fields(o.ScopesText)
	}
}

// clearOAuth drops every auth key of a.
func clearOAuth(a *accounts.Account) {
	a.Auth, a.OAuthProvider, a.OAuthClientID, a.OAuthClientSecret = "", "", "", ""
	a.OAuthAuthURL, a.OAuthTokenURL, a.OAuthScopes, a.OAuthCommand, a.SASLMechanism = "", "", nil, "", ""
}

// oauthFormFor fills the sign-in part of the form from a saved account.
func oauthFormFor(a accounts.Account) oauthForm {
	if !a.OAuth2() {
		return oauthForm{Login: "password"}
	}
	return oauthForm{Login: a.OAuthProvider, ClientID: a.OAuthClientID, ClientSecret: a.OAuthClientSecret,
		AuthURL: a.OAuthAuthURL, TokenURL: a.OAuthTokenURL, ScopesText: strings.Join(a.OAuthScopes, " ")}
}

// sameSignIn reports whether a grant given for signed is good for a: both
// sign in, with the same client (oauth.SameClient), so its refresh token works.
func sameSignIn(signed, a accounts.Account) bool {
	return signed.OAuth2() && a.OAuth2() && oauth.SameClient(signed, a)
}
