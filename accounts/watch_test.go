package accounts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeAtomic replaces path by rename, so that the watcher never sees a
// half-written file and each write is exactly one change.
func writeAtomic(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func nextEvent(t *testing.T, ch <-chan WatchEvent, what string) WatchEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the channel closed", what)
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no event", what)
	}
	return WatchEvent{}
}

func names(c *Config) string {
	var n []string
	for _, a := range c.Accounts {
		n = append(n, a.Name)
	}
	return strings.Join(n, ",")
}

const (
	watchA  = "[[account]]\nname = \"a\"\nprotocol = \"imap\"\nhost = \"h\"\nusername = \"u\"\n"
	watchB  = "[[account]]\nname = \"b\"\nprotocol = \"pop3\"\nhost = \"h\"\nusername = \"u\"\n"
	watchB2 = "[[account]]\nname = \"b\"\nprotocol = \"pop3\"\nhost = \"x\"\nusername = \"u\"\n" // same size as watchB
)

// TestWatch: the config as it is, then one event per change: a good file,
// a broken one (an error, no config), a fix, a same-size rewrite, and a
// deleted file (an error: the caller keeps what it has); the channel closes
// with ctx.
func TestWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	writeAtomic(t, path, "[general]\nnotify = false\n"+watchA)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Watch(ctx, path, time.Millisecond)

	ev := nextEvent(t, ch, "the file as it is")
	if ev.Err != nil || names(ev.Config) != "a" || ev.Config.General.Notify {
		t.Fatalf("first event %+v, %v; want account a, notify off", ev.Config, ev.Err)
	}

	writeAtomic(t, path, "[general]\nnotify = false\n"+watchA+watchB)
	if ev = nextEvent(t, ch, "an account added"); ev.Err != nil || names(ev.Config) != "a,b" {
		t.Fatalf("after adding b: %+v, %v", ev.Config, ev.Err)
	}

	writeAtomic(t, path, "this is = = not toml\n")
	if ev = nextEvent(t, ch, "a broken file"); ev.Err == nil || ev.Config != nil {
		t.Fatalf("broken file: config %+v, err %v; want an error only", ev.Config, ev.Err)
	}

	writeAtomic(t, path, "[general]\nnotify = false\n"+watchB)
	if ev = nextEvent(t, ch, "the file fixed"); ev.Err != nil || names(ev.Config) != "b" {
		t.Fatalf("fixed: %+v, %v", ev.Config, ev.Err)
	}

	// Same size, and possibly the same modification time: a new file all
	// the same.
	writeAtomic(t, path, "[general]\nnotify = false\n"+watchB2)
	if ev = nextEvent(t, ch, "a same-size rewrite"); ev.Err != nil || ev.Config.Accounts[0].Host != "x" {
		t.Fatalf("same-size rewrite: %+v, %v", ev.Config, ev.Err)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if ev = nextEvent(t, ch, "the file deleted"); !errors.Is(ev.Err, ErrConfigGone) || ev.Config != nil {
		t.Fatalf("deleted: %+v, %v; want ErrConfigGone only", ev.Config, ev.Err)
	}

	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("an event after cancel, with no change")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the channel did not close after cancel")
	}
}

// TestWatchMissingFile: a file that does not exist yet is no accounts with
// the default [general]; its creation is a change.
func TestWatchMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := Watch(ctx, path, time.Millisecond)
	if ev := nextEvent(t, ch, "no file"); ev.Err != nil || len(ev.Config.Accounts) != 0 || !ev.Config.General.Notify {
		t.Fatalf("no file: %+v, %v; want no accounts, notify on", ev.Config, ev.Err)
	}
	writeAtomic(t, path, watchA)
	if ev := nextEvent(t, ch, "the file created"); ev.Err != nil || names(ev.Config) != "a" {
		t.Fatalf("created: %+v, %v", ev.Config, ev.Err)
	}
	// Removed (a dotfile manager deleting and rewriting it): an error, so
	// that the caller keeps its accounts and their seen sets, not "no
	// accounts".
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch, "the file removed"); !errors.Is(ev.Err, ErrConfigGone) || ev.Config != nil {
		t.Fatalf("removed: %+v, %v; want ErrConfigGone", ev.Config, ev.Err)
	}
	writeAtomic(t, path, watchA)
	if ev := nextEvent(t, ch, "the file back"); ev.Err != nil || names(ev.Config) != "a" {
		t.Fatalf("back: %+v, %v", ev.Config, ev.Err)
	}
}
