package accounts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mailsneaker/internal/safefile"
)

// configLockTimeout bounds the wait for another process editing the config:
// an edit takes milliseconds, so a longer wait means that process is stuck.
const configLockTimeout = 10 * time.Second

// Errors of the config editing functions.
var (
	ErrAccountExists   = errors.New("an account with that name already exists")
	ErrAccountNotFound = errors.New("no account with that name")
)

// accountKeyOrder lists the keys of an [[account]] block in the order they are written.
func accountKeyOrder() []string {
	return []string{"name", "protocol", "host", "port", "security", "username", "folders",
		"poll_interval", "max_connections", "folder_poll_interval", "ca_file", "password_command", "count_existing", "mark_on_server", "open_command", "url",
		"auth", "oauth_provider", "oauth_client_id", "oauth_client_secret", "oauth_auth_url", "oauth_token_url", "oauth_scopes", "oauth_command", "sasl_mechanism",
		"enabled", "notify", "sound", "quiet_from", "ignore_from", "open_with"}
}

// AddAccount appends an [[account]] block for a to the config file at path,
// creating the file (0600) and its directory (0700) if needed. The rest of
// the file is kept as it is.
func AddAccount(path string, a Account) error {
	return editConfig(path, func(text []byte, cfg *Config) ([]byte, error) {
		if _, ok := cfg.Account(a.Name); ok {
			return nil, fmt.Errorf("add account %q: %w", a.Name, ErrAccountExists)
		}
		var b strings.Builder
		b.Write(text)
		if len(text) > 0 && !strings.HasSuffix(string(text), "\n") {
			b.WriteString("\n")
		}
		if len(text) > 0 && !strings.HasSuffix(string(text), "\n\n") {
			b.WriteString("\n")
		}
		b.WriteString("[[account]]\n")
		for _, k := range accountKeyOrder() {
			if v, ok := tomlValue(a, k); ok && worthWriting(a, k) {
				b.WriteString(k + " = " + v + "\n")
			}
		}
		return []byte(b.String()), nil
	}, &a)
}

// UpdateAccount rewrites the [[account]] block of oldName to hold a (which
// may have a new name). Keys already written are changed in place (their
// comments stay); keys a no longer needs are removed; new keys are added at
// the end of the block.
func UpdateAccount(path, oldName string, a Account) error {
	return editConfig(path, func(text []byte, cfg *Config) ([]byte, error) {
		if _, ok := cfg.Account(oldName); !ok {
			return nil, fmt.Errorf("update account %q: %w", oldName, ErrAccountNotFound)
		}
		if _, ok := cfg.Account(a.Name); ok && a.Name != oldName {
			return nil, fmt.Errorf("rename account %q to %q: %w", oldName, a.Name, ErrAccountExists)
		}
		lay := scanLayout(text)
		b, err := lay.accountBlock(oldName)
		if err != nil {
			return nil, err
		}
		var edits []edit
		var added strings.Builder
		for _, k := range accountKeyOrder() {
			v, ok := tomlValue(a, k)
			kv := b.find(k)
			switch {
			case kv != nil && ok:
				edits = append(edits, edit{kv.start, kv.end, k + " = " + v})
			case kv != nil:
				edits = append(edits, edit{lay.lineStart(kv.line), lay.lineStart(kv.endLine + 1), ""})
			case ok && worthWriting(a, k):
				added.WriteString(k + " = " + v + "\n")
			}
		}
		if added.Len() > 0 {
			at := lay.lineStart(b.lastLine + 1)
			s := added.String()
			if at == len(text) && len(text) > 0 && text[len(text)-1] != '\n' {
				s = "\n" + s
			}
			edits = append(edits, edit{at, at, s})
		}
		return applyEdits(text, edits), nil
	}, &a)
}

// RemoveAccount deletes the [[account]] block of name, with the comment
// lines written right above or below it.
func RemoveAccount(path, name string) error {
	return editConfig(path, func(text []byte, cfg *Config) ([]byte, error) {
		if _, ok := cfg.Account(name); !ok {
			return nil, fmt.Errorf("remove account %q: %w", name, ErrAccountNotFound)
		}
		lay := scanLayout(text)
		b, err := lay.accountBlock(name)
		if err != nil {
			return nil, err
		}
		start, end := lay.blockLines(b)
		out := applyEdits(text, []edit{{lay.lineStart(start), lay.lineStart(end + 1), ""}})
		if lay.lineStart(end+1) == len(text) {
			out = []byte(strings.TrimRight(string(out), "\r\n"))
			if len(out) > 0 {
				out = append(out, '\n')
			}
		}
		return out, nil
	}, nil)
}

// editConfig runs change on the current text of the config file under an
// exclusive lock, checks that the result parses, and writes it atomically.
// check, if set, is validated first. A symbolic link at path is written
// through to its target.
func editConfig(path string, change func(text []byte, cfg *Config) ([]byte, error), check *Account) error {
	dir := filepath.Dir(path)
	if check != nil {
		if err := joinProblems(check.problems(dir)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config dir: %w", err)
	}
	lock, err := safefile.LockWait(path+".lock", configLockTimeout)
	if err != nil {
		return fmt.Errorf("lock config: %w", err)
	}
	defer lock.Unlock()

	target, err := editTarget(path)
	if err != nil {
		return err
	}
	text, err := readConfigFile(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if target != path {
			return fmt.Errorf("read config %s (a link): %w", path, err)
		}
		return fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(path, text)
	if err != nil {
		return fmt.Errorf("config file has errors, fix them first: %w", err)
	}
	out, err := change(text, cfg)
	if err != nil {
		return err
	}
	if _, err := Parse(path, out); err != nil {
		return fmt.Errorf("edited config would not be valid, not written: %w", err)
	}
	if err := safefile.WriteFile(target, out, nil); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// editTarget is the file an edit replaces: path itself, or, when path is a
// symbolic link (dotfile managers such as stow or chezmoi keep config.toml
// as one), the file it points to, so that the link survives the edit. A
// link to a missing file is an error rather than a new regular file.
func editTarget(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil // a missing file is created; other errors show at the read
	}
	target, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		dest, _ := os.Readlink(path)
		return "", fmt.Errorf("config %s is a symbolic link to %s, which does not exist: fix or remove the link", path, dest)
	}
	if err != nil {
		return "", fmt.Errorf("read config: %w", err)
	}
	return target, nil
}

// accountBlock finds the [[account]] block named name.
func (l *layout) accountBlock(name string) (*block, error) {
	for _, b := range l.accounts() {
		if b.name() == name {
			return b, nil
		}
	}
	return nil, fmt.Errorf("account %q is not written as an [[account]] table with name = %q; edit the file by hand", name, name)
}

// blockLines is the line range to delete for b: its header and keys, the
// comment lines stuck right above the header and right below the last key
// (unless they lead into the next header), and one blank line so that
// blank runs do not grow.
func (l *layout) blockLines(b *block) (start, end int) {
	lines := l.lines()
	n := len(lines) - 1
	if n > 0 && lines[n] == "" && strings.HasSuffix(string(l.data), "\n") {
		n-- // the empty "line" after the final newline
	}
	prevEnd, nextHeader := 0, n+1
	for i, x := range l.blocks {
		if x == b {
			if i > 0 {
				prevEnd = l.blocks[i-1].lastLine
			}
			if i+1 < len(l.blocks) {
				nextHeader = l.blocks[i+1].headerLine
			}
		}
	}
	start, end = b.headerLine, b.lastLine
	for start-1 > prevEnd && isComment(lines[start-1]) {
		start--
	}
	j := end + 1
	for j <= n && j < nextHeader && isComment(lines[j]) {
		j++
	}
	if j != nextHeader {
		end = j - 1
	}
	if end+1 <= n && isBlank(lines[end+1]) && (start == 1 || isBlank(lines[start-1])) {
		end++
	}
	return start, end
}

func isComment(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "#") }
func isBlank(s string) bool   { return strings.TrimSpace(s) == "" }

// edit replaces text[start:end] with text.
type edit struct {
	start, end int
	text       string
}

func applyEdits(data []byte, edits []edit) []byte {
	slices.SortStableFunc(edits, func(a, b edit) int { return b.start - a.start })
	out := slices.Clone(data)
	for _, e := range edits {
		out = slices.Concat(out[:e.start:e.start], []byte(e.text), out[e.end:])
	}
	return out
}

// tomlValue renders field key of a as a TOML value; ok is false when the
// field is empty (left out means the default).
func tomlValue(a Account, key string) (v string, ok bool) {
	str := func(s string) (string, bool) { return quote(s), s != "" }
	switch key {
	case "name":
		return str(a.Name)
	case "protocol":
		return str(string(a.Protocol))
	case "host":
		return str(a.Host)
	case "port":
		return strconv.Itoa(a.Port), a.Port != 0
	case "security":
		return str(string(a.Security))
	case "username":
		return str(a.Username)
	case "folders":
		return stringList(a.Folders), len(a.Folders) > 0
	case "poll_interval":
		return quote(formatDuration(a.PollInterval)), a.PollInterval != 0
	case "max_connections":
		return strconv.Itoa(a.MaxConnections), a.MaxConnections != 0 && a.Protocol != POP3
	case "folder_poll_interval":
		return quote(formatDuration(a.FolderPollInterval)), a.FolderPollInterval != 0 && a.Protocol != POP3
	case "ca_file":
		return str(a.CAFile)
	case "password_command":
		return str(a.PasswordCommand)
	case "count_existing":
		return strconv.FormatBool(a.CountExisting), a.CountExisting
	case "mark_on_server":
		return strconv.FormatBool(a.MarkOnServer), a.MarkOnServer
	case "open_command":
		return str(a.OpenCommand)
	case "url":
		return str(a.URL)
	case "enabled": // kept when written, so that its comment stays; added only as false
		return strconv.FormatBool(!a.Disabled), true
	case "notify":
		return strconv.FormatBool(!a.NoNotify), true
	case "sound":
		return str(a.Sound)
	case "quiet_from":
		return stringList(a.QuietFrom), len(a.QuietFrom) > 0
	case "ignore_from":
		return stringList(a.IgnoreFrom), len(a.IgnoreFrom) > 0
	case "open_with":
		return str(string(a.OpenWith))
	}
	return authTOMLValue(a, key)
}

// worthWriting reports whether a key that is not in the file yet should be
// written: not when it holds its default anyway.
func worthWriting(a Account, key string) bool {
	switch key {
	case "port":
		return a.Port != DefaultPort(a.Protocol, a.Security)
	case "folders":
		return !slices.Equal(a.Folders, []string{DefaultFolder})
	case "poll_interval":
		return a.PollInterval != DefaultPollInterval
	case "max_connections":
		return a.Protocol == IMAP && a.MaxConnections != DefaultMaxConnections
	case "folder_poll_interval":
		return a.Protocol == IMAP && a.FolderPollInterval != DefaultFolderPollInterval
	case "enabled":
		return a.Disabled
	case "notify":
		return a.NoNotify
	}
	return true
}

// stringList renders ss as a TOML array of strings.
func stringList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// SetEnabled pauses (on false) or resumes the account name: it writes
// enabled = false, or true where the key is written already, and changes
// nothing else in the file, comments included.
func SetEnabled(path, name string, on bool) error {
	return editConfig(path, func(text []byte, cfg *Config) ([]byte, error) {
		if _, ok := cfg.Account(name); !ok {
			return nil, fmt.Errorf("set enabled of %q: %w", name, ErrAccountNotFound)
		}
		lay := scanLayout(text)
		b, err := lay.accountBlock(name)
		if err != nil {
			return nil, err
		}
		v := "enabled = " + strconv.FormatBool(on)
		if kv := b.find("enabled"); kv != nil {
			return applyEdits(text, []edit{{kv.start, kv.end, v}}), nil
		}
		if on {
			return text, nil // left out means enabled
		}
		at := lay.lineStart(b.lastLine + 1)
		s := v + "\n"
		if at == len(text) && len(text) > 0 && text[len(text)-1] != '\n' {
			s = "\n" + s
		}
		return applyEdits(text, []edit{{at, at, s}}), nil
	}, nil)
}

// quote renders s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f || r == utf8.RuneError {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
