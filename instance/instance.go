// Package instance makes sure only one MailSneaker tray runs per user: a
// lock file in the state dir, held for the life of the process and released
// by the OS if the process dies.
package instance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"mailsneaker/internal/safefile"
)

// ErrRunning means another process holds the lock; its text is for the user.
var ErrRunning = errors.New("MailSneaker is already running (look for its icon in the tray); quit it first")

// Lock takes the lock file dir/name, creating dir. It returns ErrRunning
// (wrapped, with the file) when another process holds it.
func Lock(dir, name string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("instance lock: %w", err)
	}
	path := filepath.Join(dir, name)
	l, err := safefile.TryLock(path)
	if errors.Is(err, safefile.ErrLocked) {
		return nil, fmt.Errorf("%w (lock %s)", ErrRunning, path)
	}
	if err != nil {
		return nil, fmt.Errorf("instance lock: %w", err)
	}
	return func() { l.Unlock() }, nil
}
