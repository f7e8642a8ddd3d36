package accounts

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"mailsneaker/internal/safefile"
)

// ConfigError is one problem in the config file or in an account: where it
// is, which key, and what is allowed instead.
type ConfigError struct {
	File    string // config file as given to Load or Parse; "" for an account not read from a file
	Line    int    // 1-based line; 0 if unknown
	Column  int    // 1-based column; only set for TOML syntax errors
	Account string // name of the account the problem is in, if known
	Index   int    // 1-based position of the [[account]] block; 0 outside one
	Field   string // TOML key, e.g. "protocol"; "" for the file as a whole
	Msg     string // what is wrong and what is allowed
}

// Error renders the problem as `config.toml:7: account "work": protocol ...`.
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	switch {
	case e.Account != "":
		fmt.Fprintf(&b, "account %q: ", e.Account)
	case e.Index > 0:
		fmt.Fprintf(&b, "account #%d: ", e.Index)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Validate checks an account as written in the file or built from CLI flags
// or a form; zero optional fields mean their defaults. It returns a
// *ConfigError, or several joined with errors.Join.
func (a Account) Validate() error {
	return joinProblems(a.problems(""))
}

func joinProblems(ps []*ConfigError) error {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// problems lists everything wrong with a; relative ca_file paths are taken
// from dir.
func (a Account) problems(dir string) []*ConfigError {
	var ps []*ConfigError
	bad := func(field, format string, args ...any) {
		ps = append(ps, &ConfigError{Account: printableName(a.Name), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case strings.TrimSpace(a.Name) == "":
		bad("name", "name is required (it is shown in the tray)")
	case textProblem(a.Name) != "":
		bad("name", "name %q %s (use plain text)", a.Name, textProblem(a.Name))
	case strings.ContainsFunc(a.Name, isBidiControl):
		bad("name", "name %q has a bidirectional control character, which can make it show as another name (use plain text)", a.Name)
	case a.Name != strings.TrimSpace(a.Name):
		bad("name", "name %q has spaces around it (remove them)", a.Name)
	case utf8.RuneCountInString(a.Name) > MaxNameLen:
		bad("name", "name is %d characters long (use at most %d)", utf8.RuneCountInString(a.Name), MaxNameLen)
	case len(a.Name) >= len(ReservedNamePrefix) && strings.EqualFold(a.Name[:len(ReservedNamePrefix)], ReservedNamePrefix):
		// The keychain holds an oauth2 account's sign-in as "oauth:<name>";
		// a password account named so would share that entry. In any case:
		// Windows' Credential Manager does not tell "OAuth:" from "oauth:".
		bad("name", "name %q starts with %q, which MailSneaker keeps for sign-ins in the keychain (choose another name)", a.Name, ReservedNamePrefix)
	}
	switch a.Protocol {
	case IMAP, POP3:
	case "":
		bad("protocol", `protocol is required (use "imap" or "pop3")`)
	default:
		bad("protocol", `protocol %q is not allowed (use "imap" or "pop3")`, string(a.Protocol))
	}
	if msg := hostProblem(a.Host); msg != "" {
		bad("host", "%s", msg)
	}
	if a.Port < 0 || a.Port > 65535 {
		bad("port", "port %d is out of range (use 1-65535, or leave it out for the default)", a.Port)
	}
	switch a.Security {
	case "", TLS, StartTLS, None:
	default:
		bad("security", `security %q is not allowed (use "tls", "starttls" or "none")`, string(a.Security))
	}
	switch {
	case strings.TrimSpace(a.Username) == "":
		bad("username", "username is required")
	case textProblem(a.Username) != "":
		bad("username", "username %q %s", a.Username, textProblem(a.Username))
	case utf8.RuneCountInString(a.Username) > MaxUsernameLen:
		bad("username", "username is %d characters long (use at most %d)", utf8.RuneCountInString(a.Username), MaxUsernameLen)
	}
	if a.Protocol == POP3 && len(a.Folders) > 0 {
		bad("folders", "folders is only for imap accounts (a pop3 mailbox has no folders): remove it")
	}
	seen := map[string]bool{}
	for _, f := range a.Folders {
		if strings.TrimSpace(f) == "" {
			bad("folders", `folders has an empty folder name (use names like "INBOX")`)
			break
		}
		if msg := textProblem(f); msg != "" {
			bad("folders", "folder %q %s", f, msg)
			break
		}
		if seen[f] {
			bad("folders", "folders lists %q twice", f)
			break
		}
		seen[f] = true
	}
	if a.PollInterval != 0 && a.PollInterval < MinPollInterval {
		bad("poll_interval", "poll_interval %q is too short (use at least %q)", formatDuration(a.PollInterval), formatDuration(MinPollInterval))
	}
	if a.MaxConnections < 0 || a.MaxConnections > MaxMaxConnections {
		bad("max_connections", "max_connections %d is out of range (use 1-%d, or leave it out for %d)", a.MaxConnections, MaxMaxConnections, DefaultMaxConnections)
	}
	if a.FolderPollInterval != 0 && a.FolderPollInterval < MinFolderPollInterval {
		bad("folder_poll_interval", "folder_poll_interval %q is too short (use at least %q)", formatDuration(a.FolderPollInterval), formatDuration(MinFolderPollInterval))
	}
	if a.CAFile != "" {
		if msg := caFileProblem(resolvePath(dir, a.CAFile)); msg != "" {
			bad("ca_file", "ca_file %q %s", a.CAFile, msg)
		}
	}
	if a.MarkOnServer && a.Protocol == POP3 {
		bad("mark_on_server", "mark_on_server is only for imap accounts (POP3 has no flags): remove it")
	}
	if a.CountExisting && a.Protocol == IMAP {
		bad("count_existing", "count_existing is only for pop3 accounts (imap uses the unseen flag): remove it")
	}
	if a.URL != "" {
		u, err := url.Parse(a.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("url", "url %q is not allowed (use an http:// or https:// address)", a.URL)
		}
	}
	for _, p := range a.authProblems() {
		bad(p[0], "%s", p[1])
	}
	a.controlProblems(dir, bad)
	return ps
}

func printableName(name string) string {
	if strings.TrimSpace(name) == "" || !utf8.ValidString(name) {
		return ""
	}
	return name
}

// ReservedNamePrefix starts the keychain entries of oauth2 sign-ins
// ("oauth:<account>"), so no account name may start with it.
const ReservedNamePrefix = "oauth:"

// Length caps of account fields. A DNS name is at most 253 octets (RFC
// 1035 section 2.3.4, without the final dot); an address is at most 64
// octets before the @ and 255 after (RFC 5321 section 4.5.3.1); a tray
// entry needs no more than 64 characters.
const (
	MaxNameLen     = 64
	MaxHostLen     = 253
	MaxUsernameLen = 320
)

// textProblem says what makes s unfit for a one-line field, or "". Control
// characters (C0 such as CR, LF and NUL, DEL, C1) could forge lines in logs
// and in the config file, or hide text in the tray and in terminals.
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Sprintf("has a control character (%U)", r)
	}
	return ""
}

// isBidiControl reports the characters that reorder the text around them:
// the embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069,
// and the marks U+200E, U+200F and U+061C. In a name they can make one
// account look like another.
func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

func hostProblem(h string) string {
	switch {
	case strings.TrimSpace(h) == "":
		return `host is required (e.g. "imap.example.com")`
	case textProblem(h) != "":
		return fmt.Sprintf("host %q %s", h, textProblem(h))
	case len(h) > MaxHostLen:
		return fmt.Sprintf("host is %d characters long (a host name has at most %d)", len(h), MaxHostLen)
	case strings.Contains(h, "://"):
		return fmt.Sprintf("host %q must be a bare host name, without a scheme", h)
	case strings.ContainsAny(h, " \t\r\n/@[]"):
		return fmt.Sprintf("host %q is not a host name or IP address", h)
	case strings.Contains(h, ":") && net.ParseIP(h) == nil:
		return fmt.Sprintf("host %q must not include a port (use the port key)", h)
	}
	return ""
}

// MaxCAFileSize caps a ca_file: a whole system CA bundle is about 250 KiB.
const MaxCAFileSize = 1 << 20

// ReadCAFile reads an account's ca_file, which must be a regular file of at
// most MaxCAFileSize bytes: a FIFO or /dev/zero is an error naming the file,
// not a hang or an out-of-memory crash.
func ReadCAFile(path string) ([]byte, error) {
	return safefile.ReadFile(path, MaxCAFileSize)
}

func caFileProblem(path string) string {
	pem, err := ReadCAFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "does not exist (give the path of a PEM file with the CA certificates)"
		}
		return fmt.Sprintf("cannot be read: %v", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return "holds no PEM certificate (it must contain -----BEGIN CERTIFICATE----- blocks)"
	}
	return ""
}

// resolvePath expands a leading ~/ and makes a relative path relative to dir.
func resolvePath(dir, p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// formatDuration is time.Duration.String without the trailing zero units
// ("5m" rather than "5m0s").
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// quietHours parses "22:00-07:00" into minutes after midnight.
func quietHours(s string) (from, to int, err error) {
	f, t, ok := strings.Cut(s, "-")
	if ok {
		if from, ok = clock(f); ok {
			to, ok = clock(t)
		}
	}
	if !ok {
		return 0, 0, fmt.Errorf(`quiet_hours %q is not allowed (use "HH:MM-HH:MM", e.g. "22:00-07:00", or "")`, s)
	}
	if from == to {
		return 0, 0, fmt.Errorf(`quiet_hours %q starts and ends at the same time (use e.g. "22:00-07:00", or "")`, s)
	}
	return from, to, nil
}

func clock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// Validate checks the [general] settings.
func (g General) Validate() error {
	if g.QuietHours == "" {
		return nil
	}
	if _, _, err := quietHours(g.QuietHours); err != nil {
		return &ConfigError{Field: "quiet_hours", Msg: err.Error()}
	}
	return nil
}

// Quiet reports whether t (in its own location) falls in the quiet hours;
// the window may wrap past midnight and includes its start but not its end.
func (g General) Quiet(t time.Time) bool {
	from, to, err := quietHours(g.QuietHours)
	if g.QuietHours == "" || err != nil {
		return false
	}
	now := t.Hour()*60 + t.Minute()
	if from < to {
		return now >= from && now < to
	}
	return now >= from || now < to
}
