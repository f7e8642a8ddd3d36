package accounts

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseOAuthKeys(t *testing.T) {
	cfg, err := Parse("config.toml", []byte(`[[account]]
name = "outlook"
protocol = "imap"
host = "outlook.office365.com"
username = "me@outlook.com"
auth = "oauth2"
oauth_provider = "custom"
oauth_client_id = "cid"
oauth_client_secret = "not-secret"
oauth_auth_url = "https://login.example.com/auth"
oauth_token_url = "http://127.0.0.1:8080/token"
oauth_scopes = ["a", "b"]
sasl_mechanism = "oauthbearer"
`))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Accounts[0]
	want := Account{Auth: AuthOAuth2, OAuthProvider: ProviderCustom, OAuthClientID: "cid", OAuthClientSecret: "not-secret",
		OAuthAuthURL: "https://login.example.com/auth", OAuthTokenURL: "http://127.0.0.1:8080/token",
		OAuthScopes: []string{"a", "b"}, SASLMechanism: SASLOAuthBearer}
	got := Account{Auth: a.Auth, OAuthProvider: a.OAuthProvider, OAuthClientID: a.OAuthClientID, OAuthClientSecret: a.OAuthClientSecret,
		OAuthAuthURL: a.OAuthAuthURL, OAuthTokenURL: a.OAuthTokenURL, OAuthScopes: a.OAuthScopes, SASLMechanism: a.SASLMechanism}
	if !reflect.DeepEqual(got, want) || !a.OAuth2() {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestValidateOAuth(t *testing.T) {
	base := Account{Name: "m", Protocol: IMAP, Host: "imap.example.com", Username: "me"}
	oa := base
	oa.Auth, oa.OAuthProvider = AuthOAuth2, ProviderMicrosoft
	for _, tc := range []struct {
		name  string
		edit  func(*Account)
		field string // "" for valid
	}{
		{"microsoft", func(a *Account) {}, ""},
		{"command only", func(a *Account) { a.OAuthProvider, a.OAuthCommand = "", "oama access me" }, ""},
		{"bad auth", func(a *Account) { a.Auth = "kerberos" }, "auth"},
		{"no provider", func(a *Account) { a.OAuthProvider = "" }, "oauth_provider"},
		{"bad provider", func(a *Account) { a.OAuthProvider = "yahoo" }, "oauth_provider"},
		{"custom without urls", func(a *Account) { a.OAuthProvider = ProviderCustom }, "oauth_auth_url"},
		{"url for google", func(a *Account) { a.OAuthProvider, a.OAuthTokenURL = ProviderGoogle, "https://x/t" }, "oauth_token_url"},
		{"scopes for microsoft", func(a *Account) { a.OAuthScopes = []string{"x"} }, "oauth_scopes"},
		{"http token url", func(a *Account) {
			a.OAuthProvider, a.OAuthAuthURL, a.OAuthTokenURL = ProviderCustom, "https://p/a", "http://p.example.com/t"
		}, "oauth_token_url"},
		{"two scopes in one", func(a *Account) {
			a.OAuthProvider, a.OAuthAuthURL, a.OAuthTokenURL = ProviderCustom, "https://p/a", "https://p/t"
			a.OAuthScopes = []string{"a b"}
		}, "oauth_scopes"},
		{"bad sasl", func(a *Account) { a.SASLMechanism = "plain" }, "sasl_mechanism"},
		{"password_command", func(a *Account) { a.PasswordCommand = "pass x" }, "password_command"},
		{"oauth key on password account", func(a *Account) { a.Auth = ""; a.OAuthProvider = ""; a.SASLMechanism = SASLXOAuth2 }, "sasl_mechanism"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := oa
			tc.edit(&a)
			err := a.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate = %v, want a problem with %s", err, tc.field)
			}
		})
	}
}

func TestAddAccountWritesOAuthKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	a := Account{Name: "gmail", Protocol: IMAP, Host: "imap.gmail.com", Username: "me@gmail.com",
		Auth: AuthOAuth2, OAuthProvider: ProviderGoogle, OAuthClientID: "id", SASLMechanism: SASLXOAuth2}
	if err := AddAccount(path, a); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Accounts[0]
	if got.Auth != AuthOAuth2 || got.OAuthProvider != ProviderGoogle || got.OAuthClientID != "id" || got.SASLMechanism != SASLXOAuth2 {
		t.Fatalf("read back %+v", got)
	}
}

func TestOAuthCommandTokenQuotesStderrNotStdout(t *testing.T) {
	a := Account{Name: "m", OAuthCommand: "echo tok-SECRET; echo 'no such account' >&2; exit 3"}
	_, err := OAuthCommandToken(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "no such account") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("err = %v", err)
	}
	a.OAuthCommand = "echo; echo late-SECRET"
	if _, err = OAuthCommandToken(context.Background(), a); err == nil || !strings.Contains(err.Error(), "access token") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("empty first line: err = %v", err)
	}
	a.OAuthCommand = "printf 'ya29.tok\\nrest\\n'"
	if tok, err := OAuthCommandToken(context.Background(), a); err != nil || tok != "ya29.tok" {
		t.Fatalf("got %q, %v", tok, err)
	}
}
