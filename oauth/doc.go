// Package oauth signs MailSneaker accounts in with OAuth2 (auth = "oauth2"
// in config.toml) and gives the poller fresh access tokens. It is the only
// package that imports golang.org/x/oauth2; callers see strings, *Grant and
// *Source, never an oauth2 type.
//
// # Configuration
//
// The keys of an [[account]] are in accounts.Account: auth, oauth_provider
// ("google", "microsoft", "custom"), oauth_client_id, oauth_client_secret,
// oauth_auth_url, oauth_token_url and oauth_scopes (custom only),
// oauth_command and sasl_mechanism. [Config] turns an account into an
// OAuth2 client: google and microsoft (/common/oauth2/v2.0) have their
// endpoints and scopes built in ([Providers]).
//
// A packager who registered desktop clients stamps default client IDs at
// build time; an account's oauth_client_id overrides them:
//
//	go build -ldflags "-X mailsneaker/oauth.googleClientID=ID.apps.googleusercontent.com
//	  -X mailsneaker/oauth.googleClientSecret=SECRET
//	  -X mailsneaker/oauth.microsoftClientID=UUID"
//
// # Signing in (the setup page)
//
// The setup page serves http://127.0.0.1:PORT and uses a path on it,
// e.g. [CallbackPath], as the redirect URL:
//
//	f, err := oauth.NewFlow(acct, "http://127.0.0.1:PORT"+oauth.CallbackPath, nil)
//	// open f.AuthCodeURL() in the system browser (PKCE S256, random state)
//	// ... the provider redirects the browser to the callback:
//	g, err := f.Finish(ctx, r.URL.Query()) // checks the state, exchanges the code
//	// err is an *Error: show err.Error() on the page; nothing was saved
//	err = oauth.SaveGrant(ctx, kc, acct.Name, g) // after the account is saved
//
// [Flow.Finish] takes one redirect: a second one, one with the wrong state,
// access_denied, invalid_scope and a token endpoint that hangs (bounded by
// FlowOptions.Timeout) or answers garbage each give an *Error with a clear
// message and an errors.Is kind (ErrAccessDenied, ErrWrongState, ...).
// To test the login before saving, give the checker the grant's own
// token source: poller.Options{OAuth: g.Source(acct, nil)}.
// [Flow.State] tells flows apart when several are open. "Sign in again" is
// the same flow for an existing account; SaveGrant replaces the old grant.
//
// # Tokens
//
// The refresh token lives in the OS keychain (accounts.Keychain: service
// "mailsneaker", user [KeychainUser](account) = "oauth:<account>"); the access
// token lives in memory only, in a [Source]. [Source.Token] renews it
// before it expires. When the provider says invalid_grant (revoked or
// expired sign-in), or no grant is stored, Token returns an error that
// errors.Is [ErrSignInAgain]; the Source then does not ask the token endpoint
// again until a new grant is saved. With oauth_command set, Token runs it
// for each login instead (accounts.OAuthCommandToken).
//
// Renaming or removing an account: [RenameGrant], [DeleteGrant].
//
// No token is ever logged, put in an error, or written anywhere but the
// keychain; *Grant formats as "oauth.Grant{…}".
package oauth
