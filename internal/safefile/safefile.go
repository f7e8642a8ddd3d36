// Package safefile is the one owner of the file-system habits MailSneaker
// relies on: exclusive lock files, atomic replacement of a file, and reading
// a file only when it is a regular file under a size cap.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// ErrLocked means another process (or another open file of this one) holds
// the lock.
var ErrLocked = errors.New("locked by another process")

// ErrNotRegular means a file to read is a device, FIFO, socket or directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge means a file to read is larger than its cap.
var ErrTooLarge = errors.New("file too large")

// Lock is an exclusive lock held on a lock file.
type Lock struct{ f *os.File }

// TryLock opens or creates path (mode 0600) and takes an exclusive lock on it
// without waiting. When another process holds it the error wraps ErrLocked.
// The OS drops the lock when its holder dies, so a stale file never blocks.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	return &Lock{f: f}, nil
}

// LockWait is TryLock retried for up to timeout. It polls rather than
// blocking in the kernel, so a holder that is stuck gives the caller an
// error (wrapping ErrLocked) instead of a hang.
func LockWait(path string, timeout time.Duration) (*Lock, error) {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		l, err := TryLock(path)
		if !errors.Is(err, ErrLocked) {
			return l, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s is held by another process for over %v: %w", path, timeout, ErrLocked)
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// Unlock releases the lock and closes the lock file (which it leaves in
// place: removing it would race with a process that just opened it).
func (l *Lock) Unlock() error {
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteOptions adjust WriteFile. A nil *WriteOptions is the zero value.
type WriteOptions struct {
	// Perm is the mode of the new file; 0 means 0600. Windows keeps its
	// own ACLs and ignores it.
	Perm fs.FileMode
	// TempPattern is the os.CreateTemp pattern of the temp file in the
	// target's directory; "" means ".<name>.tmp-*".
	TempPattern string
	// BeforeRename, if set, runs once the new data is on disk, just
	// before it replaces the file.
	BeforeRename func() error
}

// WriteFile replaces path with data so that a reader, or a crash at any
// instant, sees the old or the new file and never a part: a temp file in the
// same directory, fsync, rename over path, fsync the directory. path must
// not be a symbolic link that should survive: the rename replaces the link.
func WriteFile(path string, data []byte, o *WriteOptions) (err error) {
	if o == nil {
		o = &WriteOptions{}
	}
	perm := o.Perm
	if perm == 0 {
		perm = 0o600
	}
	pattern := o.TempPattern
	if pattern == "" {
		pattern = "." + filepath.Base(path) + ".tmp-*"
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if o.BeforeRename != nil {
		if err := o.BeforeRename(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ReadFile reads path, which must be a regular file (a symbolic link to one
// is fine) of at most max bytes. A device such as /dev/zero, a FIFO, a socket
// or a directory gives an error wrapping ErrNotRegular without reading; a
// longer file gives ErrTooLarge. Every error names path. On Unix the file is
// opened non-blocking, so a FIFO without a writer cannot hang the open.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openReadFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (it is %s)", path, ErrNotRegular, kind(st.Mode()))
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s: %w (%d bytes, the limit is %d)", path, ErrTooLarge, st.Size(), max)
	}
	// The file may grow between Stat and Read: read through the limit
	// all the same, one byte past it to tell "exactly max" from "more".
	buf := make([]byte, 0, st.Size()+1)
	r := io.LimitReader(f, max+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if int64(len(buf)) > max {
		return nil, fmt.Errorf("%s: %w (over %d bytes, the limit)", path, ErrTooLarge, max)
	}
	return buf, nil
}

// kind names a non-regular file type for an error message.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}
