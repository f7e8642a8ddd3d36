//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package seen

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLockSeenFile takes an exclusive flock on f without waiting; false means
// another process holds it. flock locks belong to the open file, so two
// Stores in one process exclude each other too, and the kernel drops the
// lock when its holder dies.
func tryLockSeenFile(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// unlockSeenFile releases the lock tryLockSeenFile took.
func unlockSeenFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// syncSeenDir makes a rename in dir durable: without it a power cut may bring
// back the old directory entry even though the new file's data was synced.
func syncSeenDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
