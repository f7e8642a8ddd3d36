package accounts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Placeholders are the names open_command may use in braces; each becomes
// one argv element (or a positional parameter of sh), never text spliced
// into a shell line.
func Placeholders() []string { return []string{"message_id", "folder", "uid", "account", "url"} }

// placeholderNames lists the {name} words of an open_command: lower-case
// letters and underscores in braces; "${x}" is the shell's, not ours.
func placeholderNames(cmd string) []string {
	var names []string
	for i := 0; i < len(cmd); i++ {
		if cmd[i] != '{' || (i > 0 && cmd[i-1] == '$') {
			continue
		}
		j := i + 1
		for j < len(cmd) && (cmd[j] >= 'a' && cmd[j] <= 'z' || cmd[j] == '_') {
			j++
		}
		if j > i+1 && j < len(cmd) && cmd[j] == '}' {
			names = append(names, cmd[i+1:j])
			i = j
		}
	}
	return names
}

// controlProblems checks the per-account controls: sound, quiet_from,
// ignore_from, open_with and the placeholders of open_command.
func (a Account) controlProblems(dir string, bad func(field, format string, args ...any)) {
	if a.Sound != "" {
		if msg := soundProblem(dir, a.Sound); msg != "" {
			bad("sound", "sound %q %s", a.Sound, msg)
		}
	}
	for _, k := range []struct {
		field    string
		patterns []string
	}{{"quiet_from", a.QuietFrom}, {"ignore_from", a.IgnoreFrom}} {
		for _, p := range k.patterns {
			if msg := senderPatternProblem(p); msg != "" {
				bad(k.field, "%s pattern %q %s", k.field, p, msg)
				break
			}
		}
	}
	switch a.OpenWith {
	case "", OpenThunderbird, OpenGmail, OpenOutlook, OpenDefault:
	default:
		bad("open_with", `open_with %q is not allowed (use "thunderbird", "gmail", "outlook" or "default", or leave it out)`, string(a.OpenWith))
	}
	for _, name := range placeholderNames(a.OpenCommand) {
		if !slices.Contains(Placeholders(), name) {
			bad("open_command", "open_command has the unknown placeholder {%s} (use {%s})", name, strings.Join(Placeholders(), "}, {"))
			break
		}
	}
}

// isSoundFile tells a sound file from a freedesktop sound name
// ("message-new-email"): a file is written as a path.
func isSoundFile(s string) bool {
	return strings.ContainsAny(s, `/\`) || strings.HasPrefix(s, "~")
}

// soundProblem says what is wrong with a sound setting, or "". A file must
// be a regular file (not a FIFO or device that would hang the notification
// server); a name must look like one of the sound theme spec.
func soundProblem(dir, s string) string {
	if msg := textProblem(s); msg != "" {
		return msg
	}
	if !isSoundFile(s) {
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				return `is neither a sound name (e.g. "message-new-email") nor a file path (e.g. "~/sounds/ding.oga")`
			}
		}
		return ""
	}
	fi, err := os.Stat(resolvePath(dir, s))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist (give a sound file, or a sound name such as \"message-new-email\")"
	case err != nil:
		return fmt.Sprintf("cannot be read: %v", err)
	case !fi.Mode().IsRegular():
		return "is not a regular file"
	}
	return ""
}
