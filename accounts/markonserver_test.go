package accounts

import (
	"strings"
	"testing"
)

func TestMarkOnServer(t *testing.T) {
	cfg, err := Parse("config.toml", []byte("[[account]]\nname = \"w\"\nprotocol = \"imap\"\nhost = \"h\"\nusername = \"u\"\nmark_on_server = true\n"))
	if err != nil || !cfg.Accounts[0].MarkOnServer {
		t.Fatalf("imap mark_on_server: %v, %+v", err, cfg)
	}
	_, err = Parse("config.toml", []byte("[[account]]\nname = \"p\"\nprotocol = \"pop3\"\nhost = \"h\"\nusername = \"u\"\nmark_on_server = true\n"))
	if err == nil || !strings.Contains(err.Error(), "config.toml:6") || !strings.Contains(err.Error(), "only for imap") {
		t.Fatalf("pop3 mark_on_server: %v; want an error at line 6", err)
	}
}
