package accounts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseControls(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ding.oga"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(filepath.Join(dir, "config.toml"), []byte(`
[[account]]
name = "work"
protocol = "imap"
host = "imap.example.com"
username = "me"
enabled = false
notify = false
sound = "./ding.oga"
quiet_from = ["*@github.com", "noreply@*"]
ignore_from = ["newsletter@shop.example"]
open_with = "gmail"

[[account]]
name = "home"
protocol = "pop3"
host = "pop.example.org"
username = "me"
sound = "message-new-email"
`))
	if err != nil {
		t.Fatal(err)
	}
	w, h := cfg.Accounts[0], cfg.Accounts[1]
	if !w.Disabled || !w.NoNotify || w.OpenWith != OpenGmail || len(w.QuietFrom) != 2 || len(w.IgnoreFrom) != 1 {
		t.Errorf("work = %+v", w)
	}
	if w.Sound != filepath.Join(dir, "ding.oga") {
		t.Errorf("sound file %q; want it resolved against the config dir", w.Sound)
	}
	if h.Disabled || h.NoNotify || h.Sound != "message-new-email" {
		t.Errorf("home = %+v; want enabled, notified, the sound name kept", h)
	}
}

func TestControlProblems(t *testing.T) {
	dir := t.TempDir()
	fifoLike := filepath.Join(dir, "adir")
	if err := os.Mkdir(fifoLike, 0o700); err != nil {
		t.Fatal(err)
	}
	base := Account{Name: "a", Protocol: IMAP, Host: "h.example", Username: "u"}
	for _, c := range []struct {
		name string
		edit func(a *Account)
		want string // "" = valid
	}{
		{"ok", func(a *Account) { a.QuietFrom = []string{"*@GitHub.com"}; a.OpenCommand = "mutt -f {folder} ${HOME}" }, ""},
		{"missing sound file", func(a *Account) { a.Sound = filepath.Join(dir, "none.oga") }, "does not exist"},
		{"sound is a directory", func(a *Account) { a.Sound = fifoLike }, "not a regular file"},
		{"odd sound name", func(a *Account) { a.Sound = "ding dong" }, "neither a sound name"},
		{"bad pattern", func(a *Account) { a.IgnoreFrom = []string{"[a-@x"} }, "not a valid pattern"},
		{"empty pattern", func(a *Account) { a.QuietFrom = []string{" "} }, "is empty"},
		{"open_with", func(a *Account) { a.OpenWith = "mutt" }, "open_with"},
		{"placeholder", func(a *Account) { a.OpenCommand = "tb {msgid}" }, "unknown placeholder {msgid}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := base
			c.edit(&a)
			err := a.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected problem: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v; want %q", err, c.want)
			}
		})
	}
}

func TestSenderRules(t *testing.T) {
	a := Account{QuietFrom: []string{"*@github.com", "noreply@*"}, IgnoreFrom: []string{"Newsletter@Shop.example", "noreply@spam.example"}}
	for _, c := range []struct {
		addr string
		want SenderRule
	}{
		{"ann@example.org", SenderNormal},
		{"notifications@GitHub.com", SenderQuiet},
		{"noreply@bank.example", SenderQuiet},
		{"newsletter@shop.example", SenderIgnored},
		{"noreply@spam.example", SenderIgnored}, // ignore wins
		{"", SenderNormal},
	} {
		if got := a.Sender(c.addr); got != c.want {
			t.Errorf("Sender(%q) = %d; want %d", c.addr, got, c.want)
		}
	}
}

func TestSenderAddressHostile(t *testing.T) {
	for in, want := range map[string]string{
		`"Ann" <Ann@Example.org>`:                  "ann@example.org",
		"bob@example.org, carol@example.org":       "bob@example.org",
		"<x@y>; rm -rf ~":                          "",
		"=?utf-8?q?=E2=80=AE?= <evil@example.org>": "evil@example.org",
		"":                                "",
		"<<<<>>>>":                        "",
		strings.Repeat("a", 1<<20) + "@x": "",
		"\x00\xff@\n":                     "",
	} {
		if got := SenderAddress(in); got != want {
			t.Errorf("SenderAddress(%.40q) = %q; want %q", in, got, want)
		}
	}
}

func FuzzSenderAddress(f *testing.F) {
	f.Add(`Ann <ann@example.org>`)
	f.Add(`"a\"b" <x@[1.2.3.4]>, group: c@d;`)
	f.Fuzz(func(t *testing.T, from string) {
		addr := SenderAddress(from)
		Account{QuietFrom: []string{"*@*"}}.Sender(addr)
	})
}

func TestSetEnabledKeepsComments(t *testing.T) {
	path := writeConfig(t, editBase)
	if err := SetEnabled(path, "work", false); err != nil {
		t.Fatal(err)
	}
	text := readFile(t, path)
	if !strings.Contains(text, "enabled = false\n") || !strings.Contains(text, "# via VPN") || !strings.Contains(text, "# port = 1993  (old relay)") {
		t.Fatalf("paused config:\n%s", text)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := cfg.Account("work"); !w.Disabled {
		t.Fatal("work not paused after SetEnabled(false)")
	}
	if h, _ := cfg.Account("home"); h.Disabled {
		t.Fatal("home paused too")
	}
	// A comment beside the key survives the resume.
	if err := os.WriteFile(path, []byte(strings.Replace(text, "enabled = false", "enabled = false # on holiday", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SetEnabled(path, "work", true); err != nil {
		t.Fatal(err)
	}
	text = readFile(t, path)
	if !strings.Contains(text, "enabled = true # on holiday") {
		t.Fatalf("resumed config:\n%s", text)
	}
	if err := SetEnabled(path, "nobody", false); err == nil {
		t.Fatal("SetEnabled of a missing account succeeded")
	}
}

func TestUpdateAccountWritesControls(t *testing.T) {
	path := writeConfig(t, editBase)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Account("home")
	a.NoNotify, a.QuietFrom, a.OpenWith = true, []string{"*@github.com"}, OpenThunderbird
	if err := UpdateAccount(path, "home", a); err != nil {
		t.Fatal(err)
	}
	text := readFile(t, path)
	for _, want := range []string{"notify = false\n", `quiet_from = ["*@github.com"]`, `open_with = "thunderbird"`} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "enabled") {
		t.Errorf("enabled written though it is the default:\n%s", text)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
