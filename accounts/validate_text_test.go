package accounts

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseRejectsHostileText: control characters in name, username, host
// and folders, bidi controls in names, and overlong fields are errors on the
// right line and key. The old code let CR/LF through in username, host and
// folders, and bidi overrides and any length everywhere.
func TestParseRejectsHostileText(t *testing.T) {
	// block puts field = value on the last line of an otherwise valid account.
	block := func(field, value string) string {
		keys := map[string]string{"name": `"work"`, "protocol": `"imap"`, "host": `"imap.example.com"`, "username": `"me"`}
		keys[field] = value
		text := "[[account]]\n"
		for _, k := range []string{"name", "protocol", "host"} {
			if k != field {
				text += k + " = " + keys[k] + "\n"
			}
		}
		if field != "username" {
			text += "username = " + keys["username"] + "\n"
		}
		return text + field + " = " + keys[field] + "\n"
	}
	long := func(n int) string { return `"` + strings.Repeat("a", n) + `"` }
	for _, tc := range []struct {
		name, field, value, want string
	}{
		{"name LF", "name", `"a\nb"`, "has a control character (U+000A)"},
		{"name CR", "name", `"a\rb"`, "has a control character (U+000D)"},
		{"name NUL", "name", `"a\u0000b"`, "has a control character (U+0000)"},
		{"name ESC", "name", `"a\u001b[31mb"`, "has a control character (U+001B)"},
		{"name DEL", "name", `"a\u007fb"`, "has a control character (U+007F)"},
		{"name C1", "name", `"a\u0085b"`, "has a control character (U+0085)"},
		{"name RLO", "name", `"work\u202egpj.exe"`, "bidirectional control"},
		{"name oauth prefix", "name", `"oauth:Work"`, "keeps for sign-ins"},
		{"name LRE", "name", `"a\u202ab"`, "bidirectional control"},
		{"name RLI", "name", `"a\u2067b"`, "bidirectional control"},
		{"name PDI", "name", `"a\u2069b"`, "bidirectional control"},
		{"name RLM", "name", `"a\u200fb"`, "bidirectional control"},
		{"name LRM", "name", `"a\u200eb"`, "bidirectional control"},
		{"name too long", "name", long(65), "name is 65 characters long (use at most 64)"},
		{"username LF", "username", `"me\nX-Injected: 1"`, "has a control character (U+000A)"},
		{"username NUL", "username", `"me\u0000"`, "has a control character (U+0000)"},
		{"username DEL", "username", `"me\u007f"`, "has a control character (U+007F)"},
		{"username C1", "username", `"me\u009b"`, "has a control character (U+009B)"},
		{"username too long", "username", long(321), "username is 321 characters long (use at most 320)"},
		{"host CR", "host", `"imap.example.com\r"`, "has a control character (U+000D)"},
		{"host NUL", "host", `"imap\u0000.example.com"`, "has a control character (U+0000)"},
		{"host ESC", "host", `"imap\u001b.example.com"`, "has a control character (U+001B)"},
		{"host DEL", "host", `"imap\u007f.example.com"`, "has a control character (U+007F)"},
		{"host too long", "host", long(254), "host is 254 characters long (a host name has at most 253)"},
		{"folder LF", "folders", `["INBOX", "a\nb"]`, `folder "a\nb" has a control character (U+000A)`},
		{"folder NUL", "folders", `["a\u0000"]`, "has a control character (U+0000)"},
		{"folder DEL", "folders", `["a\u007f"]`, "has a control character (U+007F)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := block(tc.field, tc.value)
			_, err := Parse("config.toml", []byte(text))
			if err == nil {
				t.Fatalf("accepted:\n%s", text)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("not a *ConfigError: %T %v", err, err)
			}
			line := strings.Count(text, "\n")
			pos := fmt.Sprintf("config.toml:%d: ", line)
			if ce.Field != tc.field || ce.Line != line || !strings.HasPrefix(err.Error(), pos) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q (field %q, line %d), want %sfield %q, saying %q", err, ce.Field, ce.Line, pos, tc.field, tc.want)
			}
		})
	}
}

// TestValidateTextLimits: the same rules hold for accounts from the CLI and
// the setup page (Validate), and the limits themselves are allowed.
func TestValidateTextLimits(t *testing.T) {
	ok := Account{Name: strings.Repeat("n", 64), Protocol: IMAP, Host: strings.Repeat("h", 253),
		Username: strings.Repeat("u", 320), Folders: []string{"INBOX", "Ordner ä", "עברית"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	rtl := ok
	rtl.Name = "דואר עבודה" // right-to-left text itself is fine; only the controls are not
	if err := rtl.Validate(); err != nil {
		t.Fatalf("Hebrew name: %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*Account)
	}{
		{"name", func(a *Account) { a.Name = "a\u202eb" }},
		{"name", func(a *Account) { a.Name = strings.Repeat("ä", 65) }},
		{"username", func(a *Account) { a.Username = "me\r\n" }},
		{"host", func(a *Account) { a.Host = "h\x00" }},
		{"folders", func(a *Account) { a.Folders = []string{"IN\x1bBOX"} }},
	} {
		a := ok
		tc.edit(&a)
		err := a.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("Validate(%q/%q/%q/%q) = %v, want a problem on %s", a.Name, a.Username, a.Host, a.Folders, err, tc.field)
		}
	}
}
