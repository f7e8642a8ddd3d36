package setup

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"mailsneaker/accounts"
)

// TestRenameConfigWriteFailsLeavesNoPassword: when config.toml cannot be
// written on Save of a renamed password account (another process holds
// its lock), the password stays under the old name only: before, a copy
// was left under the new name, which no account has.
func TestRenameConfigWriteFailsLeavesNoPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the config lock (10 s)")
	}
	cfg := filepath.Join(t.TempDir(), "config.toml")
	writeAccount(t, cfg, accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: "imap.example.test", Username: "ann"})
	c, sec, _ := newServer(t, Options{ConfigPath: cfg})
	ctx := context.Background()
	if err := sec.Set(ctx, "work", "right"); err != nil {
		t.Fatal(err)
	}
	got := c.saveLocked(t, url.Values{"mode": {"edit"}, "orig": {"work"}, "name": {"home"},
		"protocol": {"imap"}, "host": {"imap.example.test"}, "port": {""}, "security": {"tls"},
		"username": {"ann"}, "folders": {"INBOX"}, "action": {"save"}})
	if !strings.Contains(got, "The account was not saved") {
		t.Fatalf("the save did not fail:\n%s", got)
	}
	if pw, err := sec.Get(ctx, "work"); err != nil || pw != "right" {
		t.Errorf("the account (still \"work\") lost its password: %v", err)
	}
	if _, err := sec.Get(ctx, "home"); err == nil {
		t.Error("a password is left under the new name, which no account has")
	}
}
