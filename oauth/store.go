package oauth

import (
	"context"
	"errors"
	"time"

	"mailsneaker/accounts"
)

// Grant is what a finished sign-in gives: a refresh token to keep (in the
// keychain) and a first access token (kept in memory). It formats as
// "oauth.Grant{…}" with every verb, so that no token reaches a log.
type Grant struct {
	refresh string
	access  string
	expiry  time.Time
}

// String hides the tokens.
func (g Grant) String() string { return "oauth.Grant{…}" }

// GoString hides the tokens from %#v.
func (g Grant) GoString() string { return g.String() }

// KeychainUser is the keychain user under which the refresh token of
// account is stored (service "mailsneaker"): "oauth:<account>", apart from
// a password stored under the account's own name.
func KeychainUser(account string) string { return "oauth:" + account }

// SaveGrant stores g's refresh token in the keychain for account,
// replacing an older grant. kc may be nil for the default keychain.
func SaveGrant(ctx context.Context, kc *accounts.Keychain, account string, g *Grant) error {
	if g == nil || g.refresh == "" {
		return &Error{Kind: ErrNoRefreshToken, Msg: "no sign-in to save"}
	}
	return kc.Set(ctx, KeychainUser(account), g.refresh)
}

// DeleteGrant removes the stored grant of account; no grant is not an error.
func DeleteGrant(ctx context.Context, kc *accounts.Keychain, account string) error {
	err := kc.Delete(ctx, KeychainUser(account))
	if errors.Is(err, accounts.ErrNoPassword) {
		return nil
	}
	return err
}

// RenameGrant moves the stored grant of account from to to; no grant is
// not an error.
func RenameGrant(ctx context.Context, kc *accounts.Keychain, from, to string) error {
	if from == to {
		return nil
	}
	rt, err := kc.Get(ctx, KeychainUser(from))
	if errors.Is(err, accounts.ErrNoPassword) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := kc.Set(ctx, KeychainUser(to), rt); err != nil {
		return err
	}
	return DeleteGrant(ctx, kc, from)
}
