package accounts

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// authProblems lists what is wrong with the auth, oauth_* and
// sasl_mechanism keys, as (key, message) pairs.
func (a Account) authProblems() [][2]string {
	var ps [][2]string
	bad := func(field, format string, args ...any) {
		ps = append(ps, [2]string{field, fmt.Sprintf(format, args...)})
	}
	switch a.Auth {
	case "", AuthPassword, AuthOAuth2:
	default:
		bad("auth", `auth %q is not allowed (use "password" or "oauth2")`, string(a.Auth))
		return ps
	}
	if !a.OAuth2() {
		for _, k := range oauthKeys(a) {
			bad(k, `%s is only for auth = "oauth2": remove it, or set auth = "oauth2"`, k)
		}
		return ps
	}
	if a.PasswordCommand != "" {
		bad("password_command", `password_command is for auth = "password": an oauth2 account signs in, or gets its access token from oauth_command`)
	}
	custom := a.OAuthProvider == ProviderCustom
	switch a.OAuthProvider {
	case ProviderGoogle, ProviderMicrosoft, ProviderCustom:
	case "":
		if a.OAuthCommand == "" {
			bad("oauth_provider", `oauth_provider is required with auth = "oauth2" (use "google", "microsoft" or "custom"), unless oauth_command gives the access token`)
		}
	default:
		bad("oauth_provider", `oauth_provider %q is not allowed (use "google", "microsoft" or "custom")`, a.OAuthProvider)
	}
	for _, k := range []struct {
		key, val string
	}{{"oauth_auth_url", a.OAuthAuthURL}, {"oauth_token_url", a.OAuthTokenURL}} {
		switch {
		case k.val != "" && !custom:
			bad(k.key, `%s is only for oauth_provider = "custom" (google and microsoft have theirs built in): remove it`, k.key)
		case k.val == "" && custom && a.OAuthCommand == "":
			bad(k.key, `%s is required with oauth_provider = "custom" (the provider's https:// address)`, k.key)
		case k.val != "":
			if msg := endpointProblem(k.val); msg != "" {
				bad(k.key, "%s %q %s", k.key, k.val, msg)
			}
		}
	}
	if len(a.OAuthScopes) > 0 && !custom {
		bad("oauth_scopes", `oauth_scopes is only for oauth_provider = "custom" (google and microsoft have theirs built in): remove it`)
	}
	for _, s := range a.OAuthScopes {
		if msg := textProblem(s); msg != "" || s == "" || strings.ContainsAny(s, " \t") {
			bad("oauth_scopes", "oauth_scopes has the scope %q, which is not one scope (write each scope as its own string, without spaces)", s)
			break
		}
	}
	for _, k := range []struct {
		key, val string
	}{{"oauth_client_id", a.OAuthClientID}, {"oauth_client_secret", a.OAuthClientSecret}} {
		if msg := textProblem(k.val); msg != "" {
			bad(k.key, "%s %s", k.key, msg)
		}
	}
	switch a.SASLMechanism {
	case "", SASLAuto, SASLXOAuth2, SASLOAuthBearer:
	default:
		bad("sasl_mechanism", `sasl_mechanism %q is not allowed (use "auto", "xoauth2" or "oauthbearer")`, string(a.SASLMechanism))
	}
	return ps
}

// oauthKeys lists the oauth2-only keys a sets.
func oauthKeys(a Account) []string {
	var ks []string
	for _, k := range []struct {
		key string
		set bool
	}{
		{"oauth_provider", a.OAuthProvider != ""}, {"oauth_client_id", a.OAuthClientID != ""},
		{"oauth_client_secret", a.OAuthClientSecret != ""}, {"oauth_auth_url", a.OAuthAuthURL != ""},
		{"oauth_token_url", a.OAuthTokenURL != ""}, {"oauth_scopes", len(a.OAuthScopes) > 0},
		{"oauth_command", a.OAuthCommand != ""}, {"sasl_mechanism", a.SASLMechanism != ""},
	} {
		if k.set {
			ks = append(ks, k.key)
		}
	}
	return ks
}

// endpointProblem says what makes u unfit as an OAuth2 endpoint, or "":
// codes and tokens travel over it, so it must be https, or http to this
// machine (a local test provider).
func endpointProblem(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil {
		return "is not an address (use https://...)"
	}
	switch p.Scheme {
	case "https":
		return ""
	case "http":
		h := p.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return ""
		}
	}
	return "must start with https:// (tokens travel over it)"
}

// authTOMLValue is tomlValue for the auth keys.
func authTOMLValue(a Account, key string) (string, bool) {
	str := func(s string) (string, bool) { return quote(s), s != "" }
	switch key {
	case "auth":
		return str(string(a.Auth))
	case "oauth_provider":
		return str(a.OAuthProvider)
	case "oauth_client_id":
		return str(a.OAuthClientID)
	case "oauth_client_secret":
		return str(a.OAuthClientSecret)
	case "oauth_auth_url":
		return str(a.OAuthAuthURL)
	case "oauth_token_url":
		return str(a.OAuthTokenURL)
	case "oauth_scopes":
		q := make([]string, len(a.OAuthScopes))
		for i, s := range a.OAuthScopes {
			q[i] = quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]", len(a.OAuthScopes) > 0
	case "oauth_command":
		return str(a.OAuthCommand)
	case "sasl_mechanism":
		return str(string(a.SASLMechanism))
	}
	return "", false
}

// OAuthCommandToken runs the account's oauth_command like a
// password_command (ShellCommand, PasswordCommandTimeout unless ctx ends
// sooner) and returns the first line of its stdout: an access token. Errors
// quote the command's stderr, never its stdout.
func OAuthCommandToken(ctx context.Context, a Account) (string, error) {
	what := fmt.Sprintf("oauth_command of account %q", a.Name)
	return runSecretCommand(ctx, what, "an access token", a.OAuthCommand, PasswordCommandTimeout)
}
