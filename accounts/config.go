package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"mailsneaker/internal/safefile"
)

// Config is the whole config.toml, with defaults applied.
type Config struct {
	General  General
	Accounts []Account
}

// Account returns the account called name.
func (c *Config) Account(name string) (Account, bool) {
	for _, a := range c.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// rawConfig mirrors config.toml; pointers tell "written" from "left out".
type rawConfig struct {
	General rawGeneral   `toml:"general"`
	Account []rawAccount `toml:"account"`
}

type rawGeneral struct {
	Notify     *bool  `toml:"notify"`
	QuietHours string `toml:"quiet_hours"`
}

type rawAccount struct {
	Name            string    `toml:"name"`
	Protocol        string    `toml:"protocol"`
	Host            string    `toml:"host"`
	Port            *int64    `toml:"port"`
	Security        *string   `toml:"security"`
	Username        string    `toml:"username"`
	Folders         *[]string `toml:"folders"`
	PollInterval    *string   `toml:"poll_interval"`
	MaxConnections  *int64    `toml:"max_connections"`
	FolderPoll      *string   `toml:"folder_poll_interval"`
	CAFile          string    `toml:"ca_file"`
	PasswordCommand string    `toml:"password_command"`
	CountExisting   bool      `toml:"count_existing"`
	MarkOnServer    bool      `toml:"mark_on_server"`
	OpenCommand     string    `toml:"open_command"`
	URL             string    `toml:"url"`

	Auth              string   `toml:"auth"`
	OAuthProvider     string   `toml:"oauth_provider"`
	OAuthClientID     string   `toml:"oauth_client_id"`
	OAuthClientSecret string   `toml:"oauth_client_secret"`
	OAuthAuthURL      string   `toml:"oauth_auth_url"`
	OAuthTokenURL     string   `toml:"oauth_token_url"`
	OAuthScopes       []string `toml:"oauth_scopes"`
	OAuthCommand      string   `toml:"oauth_command"`
	SASLMechanism     string   `toml:"sasl_mechanism"`
	Enabled           *bool    `toml:"enabled"`
	Notify            *bool    `toml:"notify"`
	Sound             string   `toml:"sound"`
	QuietFrom         []string `toml:"quiet_from"`
	IgnoreFrom        []string `toml:"ignore_from"`
	OpenWith          string   `toml:"open_with"`
}

// wantType says what a key holds, for type mismatch messages.
func wantType(key string) string {
	switch key {
	case "port":
		return "a whole number, e.g. 993"
	case "max_connections":
		return "a whole number, e.g. 3"
	case "notify", "count_existing", "mark_on_server", "enabled":
		return "true or false"
	case "folders":
		return `a list of strings, e.g. ["INBOX"]`
	case "oauth_scopes":
		return `a list of strings, e.g. ["https://mail.google.com/"]`
	case "quiet_from", "ignore_from":
		return `a list of strings, e.g. ["*@github.com"]`
	case "poll_interval", "folder_poll_interval":
		return `a duration string, e.g. "5m"`
	case "general":
		return "a table: [general]"
	case "account":
		return "[[account]] tables"
	}
	return "a string in quotes"
}

// MaxConfigSize caps config.toml. A config with a hundred accounts is about
// 30 KiB; the cap bounds what a mistaken path (a device, a log file) makes us
// read and parse.
const MaxConfigSize = 1 << 20

// Load reads and parses the config file at path. A missing file gives an
// error wrapping fs.ErrNotExist; the file must be a regular file of at most
// MaxConfigSize bytes.
func Load(path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// readConfigFile reads the config file through the size cap: a FIFO, a device
// or a directory at path is an error naming it, not a hang.
func readConfigFile(path string) ([]byte, error) {
	return safefile.ReadFile(path, MaxConfigSize)
}

// Parse parses the text of a config file; file names it in errors and is the
// base of relative ca_file paths. Problems are *ConfigError values (several
// are joined with errors.Join).
func Parse(file string, data []byte) (*Config, error) {
	if len(data) > MaxConfigSize {
		return nil, &ConfigError{File: file, Msg: fmt.Sprintf("the file is %d bytes, over the %d byte (1 MiB) limit for a config file", len(data), MaxConfigSize)}
	}
	lay := scanLayout(data)
	var raw rawConfig
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, decodeProblem(file, lay, err)
	}

	var ps []*ConfigError
	cfg := &Config{General: General{Notify: true, QuietHours: raw.General.QuietHours}}
	if raw.General.Notify != nil {
		cfg.General.Notify = *raw.General.Notify
	}
	if err := cfg.General.Validate(); err != nil {
		var ce *ConfigError
		errors.As(err, &ce)
		ce.File, ce.Line = file, lay.generalLine(ce.Field)
		ps = append(ps, ce)
	}

	blocks := lay.accounts()
	firstLine := map[string]int{}
	dir := filepath.Dir(file)
	for i, ra := range raw.Account {
		var b *block
		if i < len(blocks) {
			b = blocks[i]
		} else {
			b = &block{} // written as `account = [{...}]`: no per-key lines
		}
		a, aps := ra.account()
		aps = append(aps, a.problems(dir)...)
		if a.Name != "" {
			if l, dup := firstLine[a.Name]; dup {
				aps = append(aps, &ConfigError{Account: a.Name, Field: "name",
					Msg: fmt.Sprintf("name %q is already used by the account on line %d (names must be unique)", a.Name, l)})
			} else {
				firstLine[a.Name] = b.line("name")
			}
		}
		seen := map[string]bool{}
		for _, p := range aps {
			if seen[p.Field] { // one problem per key is enough
				continue
			}
			seen[p.Field] = true
			p.File, p.Index, p.Account = file, i+1, printableName(a.Name)
			p.Line = b.line(p.Field)
			ps = append(ps, p)
		}
		if a.CAFile != "" {
			a.CAFile = resolvePath(dir, a.CAFile)
		}
		if isSoundFile(a.Sound) {
			a.Sound = resolvePath(dir, a.Sound)
		}
		cfg.Accounts = append(cfg.Accounts, a.WithDefaults())
	}
	if len(ps) > 0 {
		slices.SortStableFunc(ps, func(a, b *ConfigError) int { return a.Line - b.Line })
		return nil, joinProblems(ps)
	}
	return cfg, nil
}

// account converts the written form, reporting values written explicitly
// that the Account type cannot tell from "left out".
func (ra rawAccount) account() (Account, []*ConfigError) {
	var ps []*ConfigError
	bad := func(field, format string, args ...any) {
		ps = append(ps, &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	a := Account{
		Name: ra.Name, Protocol: Protocol(ra.Protocol), Host: ra.Host, Username: ra.Username,
		CAFile: ra.CAFile, PasswordCommand: ra.PasswordCommand, CountExisting: ra.CountExisting,
		MarkOnServer: ra.MarkOnServer,
		OpenCommand:  ra.OpenCommand, URL: ra.URL,
		Auth: Auth(ra.Auth), OAuthProvider: ra.OAuthProvider, OAuthClientID: ra.OAuthClientID,
		OAuthClientSecret: ra.OAuthClientSecret, OAuthAuthURL: ra.OAuthAuthURL, OAuthTokenURL: ra.OAuthTokenURL,
		OAuthScopes: ra.OAuthScopes, OAuthCommand: ra.OAuthCommand, SASLMechanism: SASLMechanism(ra.SASLMechanism),
		Sound: ra.Sound, QuietFrom: ra.QuietFrom, IgnoreFrom: ra.IgnoreFrom, OpenWith: OpenWith(ra.OpenWith),
	}
	a.Disabled = ra.Enabled != nil && !*ra.Enabled
	a.NoNotify = ra.Notify != nil && !*ra.Notify
	if ra.Port != nil {
		if *ra.Port < 1 || *ra.Port > 65535 {
			bad("port", "port %d is out of range (use 1-65535, or leave it out for the default)", *ra.Port)
		} else {
			a.Port = int(*ra.Port)
		}
	}
	if ra.Security != nil {
		a.Security = Security(*ra.Security)
		if a.Security == "" {
			bad("security", `security "" is not allowed (use "tls", "starttls" or "none")`)
		}
	}
	if ra.Folders != nil {
		a.Folders = *ra.Folders
		if len(a.Folders) == 0 && a.Protocol != POP3 {
			bad("folders", `folders is empty (list at least one folder, or leave it out for ["INBOX"])`)
		}
		if a.Protocol == POP3 {
			bad("folders", "folders is only for imap accounts (a pop3 mailbox has no folders): remove it")
		}
	}
	if ra.PollInterval != nil {
		d, err := time.ParseDuration(*ra.PollInterval)
		switch {
		case err != nil:
			bad("poll_interval", `poll_interval %q is not a duration (use e.g. "5m", "90s" or "1h")`, *ra.PollInterval)
		case d < MinPollInterval:
			bad("poll_interval", "poll_interval %q is too short (use at least %q)", *ra.PollInterval, formatDuration(MinPollInterval))
		default:
			a.PollInterval = d
		}
	}
	// Only as written: an account edited from imap to pop3 carries the
	// imap defaults, which the editor then leaves out.
	if ra.MaxConnections != nil && a.Protocol == POP3 {
		bad("max_connections", "max_connections is only for imap accounts (pop3 uses one connection): remove it")
	}
	if ra.FolderPoll != nil && a.Protocol == POP3 {
		bad("folder_poll_interval", "folder_poll_interval is only for imap accounts (a pop3 mailbox has no folders): remove it")
	}
	if ra.MaxConnections != nil {
		if n := *ra.MaxConnections; n < 1 || n > MaxMaxConnections {
			bad("max_connections", "max_connections %d is out of range (use 1-%d, or leave it out for %d)", n, MaxMaxConnections, DefaultMaxConnections)
		} else {
			a.MaxConnections = int(n)
		}
	}
	if ra.FolderPoll != nil {
		d, err := time.ParseDuration(*ra.FolderPoll)
		switch {
		case err != nil:
			bad("folder_poll_interval", `folder_poll_interval %q is not a duration (use e.g. "2m" or "90s")`, *ra.FolderPoll)
		case d < MinFolderPollInterval:
			bad("folder_poll_interval", "folder_poll_interval %q is too short (use at least %q)", *ra.FolderPoll, formatDuration(MinFolderPollInterval))
		default:
			a.FolderPollInterval = d
		}
	}
	return a, ps
}

// decodeProblem turns a go-toml error into a *ConfigError with its position.
func decodeProblem(file string, lay *layout, err error) error {
	var sme *toml.StrictMissingError
	if errors.As(err, &sme) {
		ps := make([]*ConfigError, 0, len(sme.Errors))
		for _, e := range sme.Errors {
			line, _ := e.Position()
			k := e.Key()
			p := &ConfigError{File: file, Line: line}
			switch {
			case len(k) == 0:
				p.Msg = "unknown key"
			case len(k) == 1:
				p.Field = k[0]
				p.Msg = fmt.Sprintf("unknown key %q (allowed at the top: [general] and [[account]])", k[0])
			case k[0] == "account":
				p.Field = k[len(k)-1]
				p.Msg = fmt.Sprintf("unknown key %q in [[account]]", p.Field)
			default:
				p.Field = k[len(k)-1]
				p.Msg = fmt.Sprintf("unknown key %q in [%s]", p.Field, k[0])
			}
			ps = append(ps, p)
		}
		return joinProblems(ps)
	}
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return &ConfigError{File: file, Msg: err.Error()}
	}
	line, col := de.Position()
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	if rest, ok := strings.CutPrefix(msg, "cannot decode TOML "); ok && len(de.Key()) > 0 {
		tomlType, _, _ := strings.Cut(rest, " ")
		k := de.Key()
		field := k[len(k)-1]
		p := &ConfigError{File: file, Line: line, Field: field,
			Msg: fmt.Sprintf("%s must be %s, not a TOML %s", field, wantType(field), tomlType)}
		if len(k) == 2 && k[0] == "account" {
			if idx, b := lay.accountAt(line); b != nil {
				p.Index, p.Account = idx, printableName(b.name())
			}
		}
		return p
	}
	if len(de.Key()) > 0 && slices.Equal([]string(de.Key()), []string{"general"}) {
		return &ConfigError{File: file, Line: line, Field: "general", Msg: "general must be a single [general] table"}
	}
	return &ConfigError{File: file, Line: line, Column: col, Msg: "TOML syntax error: " + msg}
}
