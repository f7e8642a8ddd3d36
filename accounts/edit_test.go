package accounts

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const editBase = `# My mail, edited by hand.
[general]
notify = true # pop up

# Work: the company server
[[account]]
name = "work"
protocol = "imap"
host = "imap.example.com"   # via VPN
username = "me@example.com"
folders = [
  "INBOX",     # main
  "Lists/go",
]
# port = 1993  (old relay)

[[account]]
name = "home"
protocol = "pop3"
host = "pop.example.org"
username = "me"
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mailsneaker", "config.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readConfig(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(path, b); err != nil {
		t.Fatalf("written file does not parse: %v\n%s", err, b)
	}
	return string(b)
}

// checkNoLeftovers fails if anything but the config and its lock file is in dir.
func checkNoLeftovers(t *testing.T, path string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if n := e.Name(); n != filepath.Base(path) && n != filepath.Base(path)+".lock" {
			t.Errorf("left behind: %s", n)
		}
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
	}
}

func TestAddAccount(t *testing.T) {
	path := writeConfig(t, editBase)
	a := Account{Name: "new one", Protocol: IMAP, Host: "mail.example.net", Port: 1993, Username: "x",
		Folders: []string{"INBOX"}, PollInterval: 2 * time.Minute, PasswordCommand: `pass show "mail/new"`}
	if err := AddAccount(path, a); err != nil {
		t.Fatal(err)
	}
	want := editBase + `
[[account]]
name = "new one"
protocol = "imap"
host = "mail.example.net"
port = 1993
username = "x"
poll_interval = "2m"
password_command = "pass show \"mail/new\""
`
	if got := readConfig(t, path); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	checkNoLeftovers(t, path)
	cfg, _ := Load(path)
	if got, _ := cfg.Account("new one"); got.PasswordCommand != a.PasswordCommand || got.Port != 1993 {
		t.Errorf("round trip: %+v", got)
	}

	if err := AddAccount(path, a); !errors.Is(err, ErrAccountExists) {
		t.Errorf("second add: %v", err)
	}
	var ce *ConfigError
	if err := AddAccount(path, Account{Name: "bad", Protocol: "smtp", Host: "h", Username: "u"}); !errors.As(err, &ce) || ce.Field != "protocol" {
		t.Errorf("invalid account: %v", err)
	}
	if got := readConfig(t, path); got != want {
		t.Errorf("failed adds changed the file:\n%s", got)
	}
}

func TestAddAccountCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "mailsneaker", "config.toml")
	if err := AddAccount(path, Account{Name: "a", Protocol: POP3, Host: "h", Username: "u", Security: None}); err != nil {
		t.Fatal(err)
	}
	want := "[[account]]\nname = \"a\"\nprotocol = \"pop3\"\nhost = \"h\"\nsecurity = \"none\"\nusername = \"u\"\n"
	if got := readConfig(t, path); got != want {
		t.Errorf("got\n%s", got)
	}
	checkNoLeftovers(t, path)
	if fi, err := os.Stat(filepath.Dir(path)); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o700) {
		t.Errorf("dir mode %v, %v", fi.Mode().Perm(), err)
	}
}

func TestUpdateAccount(t *testing.T) {
	path := writeConfig(t, editBase)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Account("work")
	a.Name = "job"
	a.Host = "imap2.example.com"
	a.Folders = []string{"INBOX"}
	a.Security = StartTLS
	a.Port = 0
	a.URL = "https://webmail.example.com/"
	if err := UpdateAccount(path, "work", a); err != nil {
		t.Fatal(err)
	}
	// Changed keys keep their place and comments; new keys go after the
	// last key of the block, before the trailing comment.
	want := strings.NewReplacer(
		`name = "work"`, `name = "job"`,
		`host = "imap.example.com"   # via VPN`, `host = "imap2.example.com"   # via VPN`,
		"folders = [\n  \"INBOX\",     # main\n  \"Lists/go\",\n]\n",
		"folders = [\"INBOX\"]\nsecurity = \"starttls\"\nurl = \"https://webmail.example.com/\"\n",
	).Replace(editBase)
	if got := readConfig(t, path); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	checkNoLeftovers(t, path)

	// Clearing a field removes its line, comment and all.
	a.URL = ""
	a.Folders = nil
	if err := UpdateAccount(path, "job", a); err != nil {
		t.Fatal(err)
	}
	got := readConfig(t, path)
	if strings.Contains(got, "url =") || strings.Contains(got, "folders =") || !strings.Contains(got, "# Work: the company server") {
		t.Errorf("after clearing:\n%s", got)
	}

	if err := UpdateAccount(path, "nope", a); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("update missing: %v", err)
	}
	a.Name = "home"
	if err := UpdateAccount(path, "job", a); !errors.Is(err, ErrAccountExists) {
		t.Errorf("rename onto another: %v", err)
	}
}

func TestRemoveAccount(t *testing.T) {
	for _, tc := range []struct {
		name, remove, want string
	}{
		{"first with its comments", "work", `# My mail, edited by hand.
[general]
notify = true # pop up

[[account]]
name = "home"
protocol = "pop3"
host = "pop.example.org"
username = "me"
`},
		{"last", "home", `# My mail, edited by hand.
[general]
notify = true # pop up

# Work: the company server
[[account]]
name = "work"
protocol = "imap"
host = "imap.example.com"   # via VPN
username = "me@example.com"
folders = [
  "INBOX",     # main
  "Lists/go",
]
# port = 1993  (old relay)
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, editBase)
			if err := RemoveAccount(path, tc.remove); err != nil {
				t.Fatal(err)
			}
			if got := readConfig(t, path); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			checkNoLeftovers(t, path)
		})
	}

	path := writeConfig(t, editBase)
	if err := RemoveAccount(path, "nope"); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("remove missing: %v", err)
	}
	RemoveAccount(path, "work")
	RemoveAccount(path, "home")
	if got := readConfig(t, path); got != "# My mail, edited by hand.\n[general]\nnotify = true # pop up\n" {
		t.Errorf("both removed:\n%q", got)
	}
}

func TestEditRefusesBrokenFile(t *testing.T) {
	path := writeConfig(t, "[[account]]\nname = \"a\"\nprotocl = \"imap\"\n")
	err := AddAccount(path, Account{Name: "b", Protocol: IMAP, Host: "h", Username: "u"})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Line != 3 {
		t.Fatalf("want the file's own error, got %v", err)
	}
}

func TestConcurrentAdds(t *testing.T) {
	path := writeConfig(t, "")
	var wg sync.WaitGroup
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := AddAccount(path, Account{Name: n, Protocol: IMAP, Host: "h", Username: "u"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != len(names) {
		t.Errorf("%d accounts after %d concurrent adds", len(cfg.Accounts), len(names))
	}
	checkNoLeftovers(t, path)
}
