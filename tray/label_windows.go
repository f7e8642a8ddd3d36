package tray

import (
	"strings"
	"unicode/utf16"
)

// menuLabel escapes s for a Win32 menu, where "&" marks a mnemonic and "&&"
// is a literal ampersand.
func menuLabel(s string) string { return strings.ReplaceAll(s, "&", "&&") }

// tooltipText cuts s to fit the 128 UTF-16 units (with the terminating NUL)
// of a Windows notification-area tooltip; fyne copies it without a check.
func tooltipText(s string) string {
	const limit = 127
	n := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if n+w > limit-1 { // leave room for the ellipsis
			return s[:i] + "…"
		}
		n += w
	}
	return s
}
