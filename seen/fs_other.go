//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package seen

import "os"

// tryLockSeenFile always succeeds: this OS has no flock in golang.org/x/sys and
// no tray MailSneaker targets, so two processes here may lose each other's
// updates (a file is never left half-written: writes stay atomic).
func tryLockSeenFile(*os.File) (bool, error) { return true, nil }

// unlockSeenFile releases nothing, like tryLockSeenFile.
func unlockSeenFile(*os.File) error { return nil }

// syncSeenDir is a no-op where directories cannot be synced portably.
func syncSeenDir(string) error { return nil }
