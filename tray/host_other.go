//go:build !((linux || freebsd || openbsd || netbsd) && !android)

package tray

import "context"

// HostAvailable reports whether a system tray host is running. Windows and
// macOS always have one.
func HostAvailable(ctx context.Context) (bool, error) { return true, nil }
