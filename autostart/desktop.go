package autostart

import (
	"bufio"
	"strings"
)

// desktopEntry is the XDG autostart entry that starts exe, an absolute path
// already checked by checkExe.
func desktopEntry(exe string) string {
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=" + appName + "\n" +
		"GenericName=Mail Notifier\n" +
		"Comment=Shows new mail in the system tray\n" +
		"Exec=" + quoteExec(exe) + "\n" +
		"Icon=mailsneaker\n" +
		"Terminal=false\n" +
		"Categories=Network;Email;\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// quoteExec writes arg as one argument of an Exec key, per the Desktop Entry
// Specification 1.5, "The Exec key": % doubled (no field code); an argument
// with a reserved character is double-quoted with ", `, $ and \ escaped by a
// backslash inside; then the string-value escaping doubles every backslash
// again (so one literal backslash in a quoted argument is written as four).
func quoteExec(arg string) string {
	arg = strings.ReplaceAll(arg, "%", "%%")
	if arg != "" && !strings.ContainsAny(arg, " \t\n\"'\\><~|&;$*?#()`") {
		return arg
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range arg {
		if strings.ContainsRune("\"`$\\", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return strings.ReplaceAll(b.String(), `\`, `\\`)
}

// entryEnabled reads an autostart entry the way session managers do: Hidden=true
// deletes it, X-GNOME-Autostart-enabled=false switches it off.
func entryEnabled(content string) bool {
	group := ""
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			group = line
			continue
		}
		if group != "[Desktop Entry]" {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case key == "Hidden" && value == "true",
			key == "X-GNOME-Autostart-enabled" && value == "false":
			return false
		}
	}
	return true
}
