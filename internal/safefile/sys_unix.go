//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package safefile

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openReadFlags makes opening a FIFO return at once instead of waiting for a
// writer; reads of a regular file ignore O_NONBLOCK.
const openReadFlags = syscall.O_NONBLOCK

// tryLock takes an exclusive flock on f without waiting; false means another
// open file holds it. flock locks belong to the open file, so two Locks in
// one process exclude each other too.
func tryLock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, unix.EINTR):
			continue
		}
		return false, err
	}
}

// unlock releases the lock tryLock took.
func unlock(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// syncDir makes a rename in dir durable: without it a power cut may bring
// back the old directory entry even though the new file's data was synced.
func syncDir(dir string) error {
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
