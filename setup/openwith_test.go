package setup

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailsneaker/accounts"
)

// TestOpenWithChoice: the account page offers the built-in openers, shows
// the saved one, and saves the one picked as open_with, keeping the
// config's other per-account keys (quiet_from here).
func TestOpenWithChoice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailsneaker", "config.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := `[[account]]
name = "Work"
protocol = "imap"
host = "imap.example.test"
username = "ann"
quiet_from = ["*@github.com"] # bots
open_with = "gmail"
`
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c, sec, _ := newServer(t, Options{ConfigPath: path})
	sec.m["Work"] = "right"
	edit := c.page("GET", "/edit?name=Work", nil)
	for _, want := range []string{`id="open_with"`, `value="thunderbird"`, `value="outlook"`, `value="default"`, `value="gmail" selected`} {
		if !strings.Contains(edit, want) {
			t.Fatalf("edit page lacks %s:\n%s", want, edit)
		}
	}
	ef := url.Values{"mode": {"edit"}, "orig": {"Work"}, "name": {"Work"}, "protocol": {"imap"}, "host": {"imap.example.test"},
		"port": {"993"}, "security": {"tls"}, "username": {"ann"}, "folders": {"INBOX"}, "open_with": {"thunderbird"}, "action": {"save"}}
	if got := c.page("POST", "/account", ef); !strings.Contains(got, `id="done"`) {
		t.Fatalf("not saved:\n%s", got)
	}
	cfg, err := accounts.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Account("Work")
	if a.OpenWith != accounts.OpenThunderbird || len(a.QuietFrom) != 1 {
		t.Errorf("saved %+v", a)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), "# bots") {
		t.Errorf("comment lost:\n%s", raw)
	}
}
