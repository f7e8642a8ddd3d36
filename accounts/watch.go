package accounts

import (
	"context"
	"errors"
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
// missing file is a Config with no accounts and the [general] settings last
// loaded. A file that does not load is an event with Err, for the caller to
// report and to keep what it has.
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
		general := General{Notify: true} // as Load has it for a file without [general]
		var last fileStamp
		t := time.NewTicker(interval)
		defer t.Stop()
		for first := true; ; first = false {
			if now := stampOf(path); first || !now.same(last) {
				last = now
				ev := load(path, now, general)
				if ev.Config != nil {
					general = ev.Config.General
				}
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

// load reads the config file whose stamp is st.
func load(path string, st fileStamp, general General) WatchEvent {
	if st.missing {
		return WatchEvent{Config: &Config{General: general}}
	}
	cfg, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) { // removed since the stamp was taken
		return WatchEvent{Config: &Config{General: general}}
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
