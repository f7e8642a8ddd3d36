//go:build unix

package testenv

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// StartDovecotOAuth is StartDovecot with Dovecot's oauth2 passdb as well:
// SASL XOAUTH2 and OAUTHBEARER with HS256 JWTs signed with key (an
// OAuthServer's Key), validated locally, the user being the token's email
// claim. Password logins work as before.
func StartDovecotOAuth(t testing.TB, key []byte) *Dovecot {
	t.Helper()
	return startDovecot(t, freePorts, func(d *Dovecot) {
		// Dovecot reads the key as base64 from <dict prefix>/<iss>/<alg>/<kid>.
		kd := filepath.Join(d.Dir, "keys", "default", "HS256")
		if err := os.MkdirAll(kd, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(kd, "default"), []byte(base64.StdEncoding.EncodeToString(key)), 0o644); err != nil {
			t.Fatal(err)
		}
		ext := filepath.Join(d.Dir, "oauth2.conf.ext")
		conf := fmt.Sprintf("introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix=%s/keys/\nusername_attribute = email\n", d.Dir)
		if err := os.WriteFile(ext, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		// No auth_debug: it would log the tokens.
		d.extra = fmt.Sprintf(`auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = %s
}
`, ext)
	})
}
