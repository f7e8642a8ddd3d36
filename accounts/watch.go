package accounts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// DefaultWatchInterval is how often Watch looks at the config file when
// given no interval.
const DefaultWatchInterval = 5 * time.Second

// WatchEvent is the config file as Watch found it: either Config, or Err
// when the file changed into something that does not load.
type WatchEvent struct {
	Config *Config
	Err    error
}

// Watch reports the config file at path as it is now and again after every
// change, until ctx ends; then the channel is closed. Every interval (0
// means DefaultWatchInterval) it compares the file's identity, size and
// modification time with the last look, and loads a changed file afresh. A
// file missing from the start is a Config with no accounts. A file that does
// not load, or that was there and is gone, is an event with Err, for the
// caller to report and to keep what it has: a dotfile manager that deletes
// and rewrites the file must not make the app forget every account's seen
// set in between.
//
// Errors come on the same channel as configs, rather than through a
// callback, so that the caller sees them in order from one loop, on its own
// goroutine, and this package never logs.
func Watch(ctx context.Context, path string, interval time.Duration) <-chan WatchEvent {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	ch := make(chan WatchEvent)
	go func() {
		defer close(ch)
		var last fileStamp
		existed := false // the file was there at some look
		t := time.NewTicker(interval)
		defer t.Stop()
		for first := true; ; first = false {
			if now := stampOf(path); first || !now.same(last) {
				last = now
				ev := load(path, now, existed)
				existed = existed || !now.missing
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// ErrConfigGone is Watch's error for a config file that was there and was
// removed.
var ErrConfigGone = errors.New("config.toml was removed; keeping the accounts until it is back")

// load reads the config file whose stamp is st; existed says whether an
// earlier look found it.
func load(path string, st fileStamp, existed bool) WatchEvent {
	cfg, err := Load(path)
	if st.missing || errors.Is(err, fs.ErrNotExist) {
		if existed {
			return WatchEvent{Err: fmt.Errorf("%s: %w", path, ErrConfigGone)}
		}
		return WatchEvent{Config: &Config{General: General{Notify: true}}}
	}
	if err != nil {
		return WatchEvent{Err: err}
	}
	return WatchEvent{Config: cfg}
}

// fileStamp is what Watch compares to notice a change.
type fileStamp struct {
	missing bool
	err     string      // a stat error other than "missing"
	fi      fs.FileInfo // nil when missing or err
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fileStamp{missing: true}
	case err != nil:
		return fileStamp{err: err.Error()}
	}
	return fileStamp{fi: fi}
}

// same reports whether s and o look like the same file content. A file
// replaced by rename (as editors and this program write) is another file
// even within one tick of a coarse modification time.
func (s fileStamp) same(o fileStamp) bool {
	if s.fi == nil || o.fi == nil {
		return s.fi == nil && o.fi == nil && s.missing == o.missing && s.err == o.err
	}
	return os.SameFile(s.fi, o.fi) && s.fi.Size() == o.fi.Size() && s.fi.ModTime().Equal(o.fi.ModTime())
}
