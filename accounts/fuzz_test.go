package accounts

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseConfig feeds Parse arbitrary files: it must never panic, and
// every accepted config must hold only valid accounts; every refusal must be
// a *ConfigError that names the file.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"",
		"[general]\nnotify = false\nquiet_hours = \"22:00-07:00\"\n",
		"[[account]]\nname = \"work\"\nprotocol = \"imap\"\nhost = \"imap.example.com\"\nusername = \"me@example.com\"\n",
		"[[account]]\nname = \"p\"\nprotocol = \"pop3\"\nhost = \"pop.example.com\"\nport = 995\nsecurity = \"tls\"\nusername = \"u\"\npoll_interval = \"90s\"\ncount_existing = true\n",
		"[[account]]\nname = \"x\"\nprotocol = \"imapx\"\nhost = \"h\"\nusername = \"u\"\n",
		"account = [{name = \"a\", protocol = \"imap\", host = \"h\", username = \"u\", folders = [\"INBOX\", \"Lists/Go\"]}]\n",
		"[[account]]\nname = \"a\"\n[[account]]\nname = \"a\"\n",
		"[[account]]\nname = \"\\u0000\"\nport = -1\npoll_interval = \"1ns\"\nca_file = \"/nonexistent\"\n",
		"[general\nnotify = 3",
		"[[account]]\npassword_command = \"pass show mail\"\nsecurity = \"none\"\nunknown = 1\n",
		"\xff\xfe[[account]]\r\nname = 'a'\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("/fuzz/config.toml", data)
		if err != nil {
			if cfg != nil {
				t.Fatalf("Parse returned a config and an error %v", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *ConfigError", err, err)
			}
			if !strings.Contains(err.Error(), "config.toml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, a := range cfg.Accounts {
			if err := a.Validate(); err != nil {
				t.Fatalf("accepted an invalid account %+v: %v", a, err)
			}
		}
	})
}
