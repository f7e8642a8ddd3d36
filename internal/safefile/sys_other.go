//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package safefile

import "os"

// openReadFlags is empty where O_NONBLOCK is not known to be safe.
const openReadFlags = 0

// tryLock always succeeds: this OS has no flock in golang.org/x/sys and no
// tray MailSneaker targets, so two processes here may lose each other's
// updates (a file is never left half-written: writes stay atomic).
func tryLock(*os.File) (bool, error) { return true, nil }

// unlock releases nothing, like tryLock.
func unlock(*os.File) error { return nil }

// syncDir is a no-op where directories cannot be synced portably.
func syncDir(string) error { return nil }
