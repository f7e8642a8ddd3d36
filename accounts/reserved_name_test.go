package accounts

import (
	"strings"
	"testing"
)

// TestReservedNamePrefixAnyCase: an account name may not start with
// "oauth:" in any case: Windows' Credential Manager compares target names
// without case, so a password account "OAuth:work" would read and
// overwrite the sign-in of the oauth2 account "work".
func TestReservedNamePrefixAnyCase(t *testing.T) {
	for _, name := range []string{"oauth:work", "OAuth:work", "OAUTH:work", "oAuTh:"} {
		a := Account{Name: name, Protocol: IMAP, Host: "imap.example.com", Username: "me"}.WithDefaults()
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "keeps for sign-ins") {
			t.Errorf("name %q: %v, want it refused", name, err)
		}
	}
	for _, name := range []string{"oauth", "oauthwork", "my oauth:work", "ōauth:x"} {
		a := Account{Name: name, Protocol: IMAP, Host: "imap.example.com", Username: "me"}.WithDefaults()
		if err := a.Validate(); err != nil {
			t.Errorf("name %q: %v, want it taken", name, err)
		}
	}
}
