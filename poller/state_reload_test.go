package poller

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailsneaker/seen"
)

// TestReloadUnreadableSeenOnce: a seen.db that cannot be read (here a
// directory in its place) is read, and warned about, once, not at every
// check and tick until it changes; and a failed reload does not count as
// one (the tick would poke every account into a check).
func TestReloadUnreadableSeenOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := seen.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	store.Update("a", func(s *seen.Account) { s.IDs["x"] = "" })
	if err := store.Save(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m := NewManager(ManagerOptions{Store: store, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	st := m.newState(context.Background())

	path := store.Path()
	if err := os.Rename(path, filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour) // an mtime unlike the saved file's
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if st.reloadIfChanged(m.log) {
			t.Errorf("call %d: an unreadable seen.db reported as reloaded", i+1)
		}
	}
	if n := strings.Count(logs.String(), "cannot reload"); n != 1 {
		t.Errorf("%d warnings for one unreadable seen.db, want 1:\n%s", n, logs.String())
	}
}
