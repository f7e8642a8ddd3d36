//go:build (linux || freebsd || openbsd || netbsd) && !android

package tray

import "strings"

// menuLabel escapes s for dbusmenu, where "_" marks a mnemonic and "__" is
// a literal underscore.
func menuLabel(s string) string { return strings.ReplaceAll(s, "_", "__") }

// tooltipText returns s: StatusNotifier tooltips have no length limit.
func tooltipText(s string) string { return s }
