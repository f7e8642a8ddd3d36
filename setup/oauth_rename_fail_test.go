package setup

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
)

// TestSignInRenameConfigWriteFails: when config.toml cannot be written
// on Save of a renamed oauth2 account (here: another process holds its
// lock), the keychain is left as config.toml is: the grant stays under the
// old name, which the account still has, and none is left under the new
// name. Before, the grant had moved to the new name: the account, still
// under its old name, had to sign in again, and a grant was orphaned.
func TestSignInRenameConfigWriteFails(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the config lock (10 s a case)")
	}
	kc := testKeychain(t, "mailsneaker-signin-rename-fail-test")
	ctx := context.Background()
	for _, newSignIn := range []bool{false, true} {
		p := newOAuthPage(t, kc, 5*time.Second)
		form, old := p.signedInEdit(t, kc, "home", newSignIn)
		form.Set("action", "save")
		got := p.saveLocked(t, form)
		if !strings.Contains(got, "The account was not saved") {
			t.Fatalf("new sign-in %v: the save did not fail:\n%s", newSignIn, got)
		}
		if rt, err := kc.Get(ctx, oauth.KeychainUser("work")); err != nil || rt != old {
			t.Errorf("new sign-in %v: the account (still \"work\" in config.toml) lost its grant: same %v, %v", newSignIn, rt == old, err)
		}
		if _, err := kc.Get(ctx, oauth.KeychainUser("home")); err == nil {
			t.Errorf("new sign-in %v: a grant is left under the new name, which no account has", newSignIn)
		}
		kc.Delete(ctx, oauth.KeychainUser("work"))
		kc.Delete(ctx, oauth.KeychainUser("home"))
	}
}

// TestSignInSwitchConfigWriteFails: a password account that signs in on
// its edit page, when config.toml cannot be written on Save, keeps its
// password and gets no grant in the keychain (it is still a password
// account there).
func TestSignInSwitchConfigWriteFails(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the config lock (10 s)")
	}
	kc := testKeychain(t, "mailsneaker-signin-switch-fail-test")
	ctx := context.Background()
	p := newOAuthPage(t, kc, 5*time.Second)
	writeAccount(t, p.s.path, accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: 993,
		Security: accounts.TLS, Username: "ann"})
	if err := kc.Set(ctx, "work", "the-password"); err != nil {
		t.Fatal(err)
	}
	defer kc.Delete(ctx, "work")
	form := p.editForm("work")
	p.signInOnForm(t, form)
	form.Set("action", "save")
	got := p.saveLocked(t, form)
	if !strings.Contains(got, "The account was not saved") {
		t.Fatalf("the save did not fail:\n%s", got)
	}
	if pw, err := kc.Get(ctx, "work"); err != nil || pw != "the-password" {
		t.Errorf("the password account lost its password: %v", err)
	}
	if _, err := kc.Get(ctx, oauth.KeychainUser("work")); err == nil {
		kc.Delete(ctx, oauth.KeychainUser("work"))
		t.Error("a grant is left for an account that is still a password account in config.toml")
	}
}
