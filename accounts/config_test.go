package accounts

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

const goodConfig = `# MailSneaker
[general]
notify = false
quiet_hours = "22:00-07:00"

[[account]]
name = "work"
protocol = "imap"
host = "imap.example.com"
username = "me@example.com"

[[account]]
name = "home"          # the family box
protocol = "pop3"
host = "::1"
security = "starttls"
username = "me"
poll_interval = "90s"
count_existing = true
url = "https://mail.example.org/"
`

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse("config.toml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		General: General{Notify: false, QuietHours: "22:00-07:00"},
		Accounts: []Account{
			{Name: "work", Protocol: IMAP, Host: "imap.example.com", Port: 993, Security: TLS,
				Username: "me@example.com", Folders: []string{"INBOX"}, PollInterval: 5 * time.Minute,
				MaxConnections: 3, FolderPollInterval: 2 * time.Minute},
			{Name: "home", Protocol: POP3, Host: "::1", Port: 110, Security: StartTLS, Username: "me",
				PollInterval: 90 * time.Second, CountExisting: true, URL: "https://mail.example.org/"},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	if a, ok := cfg.Account("home"); !ok || a.Addr() != "[::1]:110" {
		t.Errorf("Account(home) = %+v, %v", a, ok)
	}
	if _, ok := cfg.Account("nope"); ok {
		t.Error("Account(nope) found")
	}

	empty, err := Parse("config.toml", nil)
	if err != nil || !empty.General.Notify || len(empty.Accounts) != 0 {
		t.Errorf("empty file: %+v, %v", empty, err)
	}
}

func TestDefaultPorts(t *testing.T) {
	for _, tc := range []struct {
		p    Protocol
		s    Security
		port int
	}{{IMAP, TLS, 993}, {IMAP, "", 993}, {IMAP, StartTLS, 143}, {IMAP, None, 143},
		{POP3, TLS, 995}, {POP3, StartTLS, 110}, {POP3, None, 110}} {
		a := Account{Protocol: tc.p, Security: tc.s, Host: "h"}
		if got := a.WithDefaults().Port; got != tc.port {
			t.Errorf("%s/%s: port %d, want %d", tc.p, tc.s, got, tc.port)
		}
		if got := a.Addr(); got != "h:"+strconv.Itoa(tc.port) {
			t.Errorf("Addr = %s", got)
		}
	}
}

// acct is an [[account]] block; extra lines go after username.
func acct(extra string) string {
	return "[[account]]\nname = \"work\"\nprotocol = \"imap\"\nhost = \"imap.example.com\"\nusername = \"me\"\n" + extra
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "bad.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, tc := range []struct {
		name, text, want, field string
	}{
		{"protocol", "[general]\nnotify = true\n\n[[account]]\nname = \"work\"\nhost = \"h\"\nprotocol = \"imapx\"\nusername = \"u\"\n",
			`config.toml:7: account "work": protocol "imapx" is not allowed (use "imap" or "pop3")`, "protocol"},
		{"unknown key", acct("\n\npasword_command = \"x\"\n"),
			`config.toml:8: unknown key "pasword_command" in [[account]]`, "pasword_command"},
		{"unknown general key", "[general]\nnotfy = true\n", `config.toml:2: unknown key "notfy" in [general]`, "notfy"},
		{"unknown table", "[genral]\nnotify = true\n", `config.toml:1: unknown key "genral" (allowed at the top: [general] and [[account]])`, "genral"},
		{"syntax", acct("port = 99x\n"), `config.toml:6:10: TOML syntax error: strings must be quoted`, ""},
		{"unterminated string", "[general]\nquiet_hours = \"22:00\n", `config.toml:2:21: TOML syntax error: basic strings cannot have new lines`, ""},
		{"port type", acct("port = \"993\"\n"), `config.toml:6: account "work": port must be a whole number, e.g. 993, not a TOML string`, "port"},
		{"notify type", "[general]\nnotify = \"yes\"\n", `config.toml:2: notify must be true or false, not a TOML string`, "notify"},
		{"port range", acct("port = 70000\n"), `config.toml:6: account "work": port 70000 is out of range (use 1-65535, or leave it out for the default)`, "port"},
		{"port zero", acct("port = 0\n"), `config.toml:6: account "work": port 0 is out of range`, "port"},
		{"security", acct("security = \"ssl\"\n"), `config.toml:6: account "work": security "ssl" is not allowed (use "tls", "starttls" or "none")`, "security"},
		{"security empty", acct("security = \"\"\n"), `config.toml:6: account "work": security "" is not allowed`, "security"},
		{"poll short", acct("poll_interval = \"10s\"\n"), `config.toml:6: account "work": poll_interval "10s" is too short (use at least "30s")`, "poll_interval"},
		{"poll bad", acct("poll_interval = \"5 min\"\n"), `config.toml:6: account "work": poll_interval "5 min" is not a duration`, "poll_interval"},
		{"folders pop3", "[[account]]\nname = \"p\"\nprotocol = \"pop3\"\nhost = \"h\"\nusername = \"u\"\nfolders = [\n  \"INBOX\",\n]\n",
			`config.toml:6: account "p": folders is only for imap accounts`, "folders"},
		{"max_connections range", acct("max_connections = 11\n"), `config.toml:6: account "work": max_connections 11 is out of range (use 1-10, or leave it out for 3)`, "max_connections"},
		{"max_connections zero", acct("\nmax_connections = 0\n"), `config.toml:7: account "work": max_connections 0 is out of range`, "max_connections"},
		{"max_connections type", acct("max_connections = \"3\"\n"), `config.toml:6: account "work": max_connections must be a whole number, e.g. 3, not a TOML string`, "max_connections"},
		{"max_connections pop3", "[[account]]\nname = \"p\"\nprotocol = \"pop3\"\nhost = \"h\"\nusername = \"u\"\nmax_connections = 2\n",
			`config.toml:6: account "p": max_connections is only for imap accounts`, "max_connections"},
		{"folder poll short", acct("folder_poll_interval = \"5s\"\n"), `config.toml:6: account "work": folder_poll_interval "5s" is too short (use at least "10s")`, "folder_poll_interval"},
		{"folder poll bad", acct("folder_poll_interval = \"2 min\"\n"), `config.toml:6: account "work": folder_poll_interval "2 min" is not a duration`, "folder_poll_interval"},
		{"folder poll pop3", "[[account]]\nname = \"p\"\nprotocol = \"pop3\"\nhost = \"h\"\nusername = \"u\"\n\nfolder_poll_interval = \"1m\"\n",
			`config.toml:7: account "p": folder_poll_interval is only for imap accounts`, "folder_poll_interval"},
		{"folders empty", acct("folders = []\n"), `config.toml:6: account "work": folders is empty`, "folders"},
		{"count_existing imap", acct("count_existing = true\n"), `config.toml:6: account "work": count_existing is only for pop3 accounts`, "count_existing"},
		{"url", acct("url = \"ftp://x\"\n"), `config.toml:6: account "work": url "ftp://x" is not allowed (use an http:// or https:// address)`, "url"},
		{"ca missing", acct("ca_file = \"/nonexistent/ca.pem\"\n"), `config.toml:6: account "work": ca_file "/nonexistent/ca.pem" does not exist`, "ca_file"},
		{"ca not pem", acct("ca_file = \"" + notPEM + "\"\n"), `holds no PEM certificate`, "ca_file"},
		{"no name", "[[account]]\nprotocol = \"imap\"\nhost = \"h\"\nusername = \"u\"\n", `config.toml:1: account #1: name is required`, "name"},
		{"no host", "[[account]]\nname = \"a\"\nprotocol = \"imap\"\nusername = \"u\"\n", `config.toml:1: account "a": host is required`, "host"},
		{"host with port", acct("")[:0] + "[[account]]\nname = \"a\"\nprotocol = \"imap\"\nhost = \"h:993\"\nusername = \"u\"\n",
			`config.toml:4: account "a": host "h:993" must not include a port (use the port key)`, "host"},
		{"no username", "[[account]]\nname = \"a\"\nprotocol = \"imap\"\nhost = \"h\"\n", `config.toml:1: account "a": username is required`, "username"},
		{"duplicate", acct("") + "\n" + acct(""), `config.toml:8: account "work": name "work" is already used by the account on line 2 (names must be unique)`, "name"},
		{"quiet hours", "[general]\nnotify = true\nquiet_hours = \"22-7\"\n", `config.toml:3: quiet_hours "22-7" is not allowed (use "HH:MM-HH:MM", e.g. "22:00-07:00", or "")`, "quiet_hours"},
		{"quiet hours range", "[general]\nquiet_hours = \"24:00-07:00\"\n", `config.toml:2: quiet_hours "24:00-07:00" is not allowed`, "quiet_hours"},
		{"general dotted", "general.quiet_hours = \"x\"\n", `config.toml:1: quiet_hours "x" is not allowed`, "quiet_hours"},
		{"second account", acct("") + "\n[[account]]\nname = \"b\"\nprotocol = \"pop3\"\nhost = \"h\"\nusername = \"u\"\nport = 99999\n",
			`config.toml:12: account "b": port 99999 is out of range`, "port"},
		{"type in second account", acct("") + "\n[[account]]\nname = \"b\"\nprotocol = 3\n",
			`config.toml:9: account "b": protocol must be a string in quotes, not a TOML integer`, "protocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("config.toml", []byte(tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
			if strings.Contains(tc.want, ":") && !strings.HasPrefix(err.Error(), tc.want[:strings.Index(tc.want, " ")]) {
				t.Errorf("error %q does not start with the position of %q", err, tc.want)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("not a *ConfigError: %T", err)
			}
			if ce.File != "config.toml" || ce.Line == 0 || ce.Field != tc.field {
				t.Errorf("ConfigError %+v: want file config.toml, a line, field %q", ce, tc.field)
			}
		})
	}
}

// TestParseConnectionBudget reads max_connections, folder_poll_interval and
// folders = ["*"] as written.
func TestParseConnectionBudget(t *testing.T) {
	cfg, err := Parse("config.toml", []byte(acct("folders = [\"INBOX\", \"*\"]\nmax_connections = 1\nfolder_poll_interval = \"45s\"\n")))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Accounts[0]
	if a.MaxConnections != 1 || a.FolderPollInterval != 45*time.Second || !reflect.DeepEqual(a.Folders, []string{"INBOX", AllFolders}) {
		t.Errorf("got max_connections %d, folder_poll_interval %v, folders %q", a.MaxConnections, a.FolderPollInterval, a.Folders)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	text := acct("port = 0\nurl = \"x\"\n") + "\n[[account]]\nname = \"b\"\nprotocol = \"smtp\"\nhost = \"h\"\nusername = \"u\"\n"
	_, err := Parse("c.toml", []byte(text))
	want := "c.toml:6: account \"work\": port 0 is out of range (use 1-65535, or leave it out for the default)\n" +
		"c.toml:7: account \"work\": url \"x\" is not allowed (use an http:// or https:// address)\n" +
		"c.toml:11: account \"b\": protocol \"smtp\" is not allowed (use \"imap\" or \"pop3\")"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "config.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("want fs.ErrNotExist, got %v", err)
	}
}

func TestLoadResolvesCAFile(t *testing.T) {
	dir := t.TempDir()
	writeTestCA(t, filepath.Join(dir, "ca.pem"))
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(acct("ca_file = \"ca.pem\"\n")), 0o600)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Accounts[0].CAFile; got != filepath.Join(dir, "ca.pem") {
		t.Errorf("CAFile = %q", got)
	}
}

func TestValidateAccountFromFlags(t *testing.T) {
	a := Account{Name: "cli", Protocol: "imapx", Host: "h", Username: "u"}
	err := a.Validate()
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "protocol" || ce.Line != 0 {
		t.Fatalf("got %#v", err)
	}
	if got, want := err.Error(), `account "cli": protocol "imapx" is not allowed (use "imap" or "pop3")`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	ok := Account{Name: "cli", Protocol: POP3, Host: "h", Username: "u"}
	if err := ok.Validate(); err != nil {
		t.Errorf("minimal account: %v", err)
	}
	if err := (Account{}).Validate(); err == nil || !strings.Contains(err.Error(), "name is required") || !strings.Contains(err.Error(), "host is required") {
		t.Errorf("empty account: %v", err)
	}
}

func TestQuietHours(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2025, 1, 1, h, m, 0, 0, time.UTC) }
	night := General{QuietHours: "22:00-07:00"}
	day := General{QuietHours: "12:30-13:00"}
	for _, tc := range []struct {
		g    General
		t    time.Time
		want bool
	}{
		{night, at(23, 0), true}, {night, at(6, 59), true}, {night, at(7, 0), false},
		{night, at(21, 59), false}, {night, at(22, 0), true},
		{day, at(12, 30), true}, {day, at(13, 0), false}, {General{}, at(0, 0), false},
	} {
		if got := tc.g.Quiet(tc.t); got != tc.want {
			t.Errorf("%q at %s: %v", tc.g.QuietHours, tc.t.Format("15:04"), got)
		}
	}
}

func TestPaths(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/x/config")
	t.Setenv("XDG_STATE_HOME", "/x/state")
	if p, err := DefaultConfigPath(); err != nil || p != "/x/config/mailsneaker/config.toml" {
		t.Errorf("DefaultConfigPath = %q, %v", p, err)
	}
	if p, err := StateDir(); err != nil || p != "/x/state/mailsneaker" {
		t.Errorf("StateDir = %q, %v", p, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if p, err := StateDir(); err != nil || p != "/home/u/.local/state/mailsneaker" {
		t.Errorf("StateDir without XDG_STATE_HOME = %q, %v", p, err)
	}
}

// writeTestCA writes a fresh self-signed CA certificate as PEM.
func writeTestCA(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, testenv.SelfSigned(t, time.Time{}, time.Time{}).PEM, 0o600); err != nil {
		t.Fatal(err)
	}
}
