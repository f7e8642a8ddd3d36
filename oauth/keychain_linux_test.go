package oauth

import (
	"context"
	"errors"
	"testing"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

// TestGrantInTheKeychain runs a Source on a real Secret Service: no grant
// means "sign in again"; a saved grant works; revoked, it is "sign in
// again" without more token requests; a new sign-in is picked up without
// a new Source; a rotated refresh token replaces the stored one.
func TestGrantInTheKeychain(t *testing.T) {
	testenv.GnomeKeyring(t, testenv.SessionBus(t, false))
	kc := &accounts.Keychain{Service: "mailsneaker-oauth-test"}
	as := testenv.StartOAuthServer(t)
	a := testAccount(as, "frank")
	ctx := context.Background()
	s := NewSource(a, kc, nil)
	if _, err := s.Token(ctx); !errors.Is(err, ErrSignInAgain) {
		t.Fatalf("no grant: %v, want ErrSignInAgain", err)
	}
	signIn := func() {
		f, err := NewFlow(a, redirect, nil)
		if err != nil {
			t.Fatal(err)
		}
		g, err := f.Finish(ctx, as.Consent(t, f.AuthCodeURL(), true).Query())
		if err != nil {
			t.Fatal(err)
		}
		if err := SaveGrant(ctx, kc, a.Name, g); err != nil {
			t.Fatal(err)
		}
	}
	signIn()
	if stored, err := kc.Get(ctx, KeychainUser(a.Name)); err != nil || stored == "" {
		t.Fatalf("keychain user %q: %v", KeychainUser(a.Name), err)
	}
	if _, err := s.Token(ctx); err != nil {
		t.Fatal(err)
	}
	as.RevokeAll()
	s.Invalidate(s.tok.AccessToken)
	if _, err := s.Token(ctx); !errors.Is(err, ErrSignInAgain) {
		t.Fatalf("revoked: %v", err)
	}
	n := as.Requests()
	if _, err := s.Token(ctx); !errors.Is(err, ErrSignInAgain) || as.Requests() != n {
		t.Fatalf("revoked, again: %v (%d more requests)", err, as.Requests()-n)
	}
	signIn() // "Sign in again…"
	if _, err := s.Token(ctx); err != nil {
		t.Fatalf("after a new sign-in: %v", err)
	}
	as.SetRotate(true)
	before, _ := kc.Get(ctx, KeychainUser(a.Name))
	s.Invalidate(s.tok.AccessToken)
	if _, err := s.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if after, _ := kc.Get(ctx, KeychainUser(a.Name)); after == before {
		t.Fatal("the rotated refresh token was not stored")
	}
	if err := RenameGrant(ctx, kc, a.Name, "renamed"); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Get(ctx, KeychainUser("renamed")); err != nil {
		t.Fatal(err)
	}
	if err := DeleteGrant(ctx, kc, "renamed"); err != nil {
		t.Fatal(err)
	}
	if err := DeleteGrant(ctx, kc, "renamed"); err != nil {
		t.Fatalf("deleting no grant: %v", err)
	}
}
