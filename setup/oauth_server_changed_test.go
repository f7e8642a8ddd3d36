package setup

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
)

// TestSignInNotSentToAnotherServer: a sign-in, stored or fresh, is only
// used to log in to the server it was made for, as a stored password is
// (sameServer). Edit the host, port, user or security and the page asks
// to sign in again; it does not send the access token to whatever server
// the form now names, which may not even use TLS.
func TestSignInNotSentToAnotherServer(t *testing.T) {
	kc := testKeychain(t, "mailsneaker-signin-server-test")
	ctx := context.Background()

	for _, fresh := range []bool{false, true} {
		p := newOAuthPage(t, kc, 5*time.Second)
		form, _ := p.signedInEdit(t, kc, "work", fresh)
		form.Set("port", "1143")
		form.Set("security", "none")
		for _, action := range []string{"test", "save"} {
			form.Set("action", action)
			got := p.page("POST", "/account", form)
			// tokenVerify answers "Connected" once it was given a token.
			if strings.Contains(got, "Connected") || strings.Contains(got, `id="done"`) || !strings.Contains(got, "sign in again") {
				t.Errorf("fresh sign-in %v, %s after the server changed: the sign-in was used, or the page does not ask to sign in again:\n%s", fresh, action, got)
			}
		}
		if cfg, err := accounts.Load(p.s.path); err != nil {
			t.Fatal(err)
		} else if got, _ := cfg.Account("work"); got.Port != 993 {
			t.Errorf("fresh sign-in %v: saved with port %d", fresh, got.Port)
		}
		kc.Delete(ctx, oauth.KeychainUser("work"))
	}
}
