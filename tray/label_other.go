//go:build !((linux || freebsd || openbsd || netbsd) && !android) && !windows

package tray

// menuLabel returns s: macOS menus have no mnemonics to escape.
func menuLabel(s string) string { return s }

// tooltipText returns s: macOS tooltips have no length limit.
func tooltipText(s string) string { return s }
