package notifier

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// fakeSink records the notes Run shows; fail, if set, makes Show fail.
type fakeSink struct {
	notes chan Note
	mu    sync.Mutex
	fail  error
}

func (f *fakeSink) Show(ctx context.Context, n Note) error {
	f.mu.Lock()
	err := f.fail
	f.mu.Unlock()
	f.notes <- n
	return err
}

func (f *fakeSink) setFail(err error) {
	f.mu.Lock()
	f.fail = err
	f.mu.Unlock()
}

// testLoop is a Loop on a fake sink, with its log in a buffer.
type testLoop struct {
	*Loop
	sink   *fakeSink
	mu     sync.Mutex
	logs   bytes.Buffer
	closed chan struct{}
}

func newTestLoop(o Options) *testLoop {
	tl := &testLoop{sink: &fakeSink{notes: make(chan Note, 16)}, closed: make(chan struct{})}
	if o.Batcher == nil {
		o.Batcher = NewBatcher(accounts.General{Notify: true})
	}
	o.Logger = slog.New(slog.NewTextHandler(lockedWriter{&tl.mu, &tl.logs}, nil))
	tl.Loop = newLoop(context.Background(), o)
	tl.Loop.sink = tl.sink
	tl.Loop.close = func() { close(tl.closed) }
	return tl
}

func (tl *testLoop) log() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// start runs the loop until the test ends; the returned channel gives
// Run's result.
func (tl *testLoop) start(t *testing.T, ctx context.Context, snaps <-chan poller.Snapshot) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx, snaps) }()
	return done
}

func wantNote(t *testing.T, s *fakeSink, title string) Note {
	t.Helper()
	select {
	case n := <-s.notes:
		if n.Title != title {
			t.Fatalf("note %q, want %q", n.Title, title)
		}
		return n
	case <-time.After(10 * time.Second):
		t.Fatalf("no note %q", title)
	}
	return Note{}
}

func wantNoNote(t *testing.T, s *fakeSink) {
	t.Helper()
	select {
	case n := <-s.notes:
		t.Fatalf("unexpected note %+v", n)
	default:
	}
}

func wantDone(t *testing.T, done <-chan error, want error) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, want) {
			t.Fatalf("Run returned %v, want %v", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestRunBatchesAndEndsWithTheChannel(t *testing.T) {
	tl := newTestLoop(Options{})
	snaps := make(chan poller.Snapshot)
	done := tl.start(t, context.Background(), snaps)
	snaps <- snap(acct("home", "a")) // start-up state: never announced
	snaps <- snap(acct("home", "a", "b"), acct("work", "x"))
	snaps <- snap(acct("home", "a", "b", "c"), acct("work", "x", "y"))
	// An unbuffered send returns when Run took the snapshot, not when it
	// showed it; the notes say when.
	n := wantNote(t, tl.sink, "1 new mail")
	if !reflect.DeepEqual(n.IDs, map[string][]string{"home": {"b"}}) {
		t.Errorf("first note covers %v", n.IDs)
	}
	n = wantNote(t, tl.sink, "2 new mails")
	if !reflect.DeepEqual(n.IDs, map[string][]string{"home": {"c"}, "work": {"y"}}) {
		t.Errorf("second note covers %v", n.IDs)
	}
	close(snaps)
	wantDone(t, done, nil)
	select {
	case <-tl.closed:
	default:
		t.Error("Run returned without releasing its connection")
	}
	wantNoNote(t, tl.sink)
}

func TestRunEndsWithContext(t *testing.T) {
	tl := newTestLoop(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := tl.start(t, ctx, make(chan poller.Snapshot))
	cancel()
	wantDone(t, done, context.Canceled)
	<-tl.closed
}

func TestRunResumeShowsHeldNotesAtOnce(t *testing.T) {
	tl := newTestLoop(Options{})
	tl.tick = time.Hour // only Resume can wake it
	snaps := make(chan poller.Snapshot)
	tl.start(t, context.Background(), snaps)
	snaps <- snap(acct("home", "a"))
	tl.Pause(time.Now().Add(time.Hour))
	if tl.PausedUntil().IsZero() {
		t.Fatal("Pause did not reach the Batcher")
	}
	snaps <- snap(acct("home", "a", "b"))
	snaps <- snap(acct("home", "a", "b")) // Run handled the one before
	wantNoNote(t, tl.sink)
	tl.Resume()
	tl.Resume() // a pending wake-up: must not block
	wantNote(t, tl.sink, "1 new mail")
}

func TestRunTickShowsNotesAfterPause(t *testing.T) {
	tl := newTestLoop(Options{})
	tl.tick = 5 * time.Millisecond
	var clock atomic.Int64 // the loop's time, in hours after 9:00
	t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.Local)
	tl.now = func() time.Time { return t0.Add(time.Duration(clock.Load()) * time.Hour) }
	snaps := make(chan poller.Snapshot)
	tl.start(t, context.Background(), snaps)
	snaps <- snap(acct("home", "a"))
	tl.Pause(t0.Add(time.Hour))
	snaps <- snap(acct("home", "a", "b"))
	snaps <- snap(acct("home", "a", "b")) // Run handled the one before
	wantNoNote(t, tl.sink)
	// No new snapshot and no Resume: a tick after the pause's end shows it.
	clock.Store(2)
	wantNote(t, tl.sink, "1 new mail")
}

func TestRunLogsTheSameFailureOnce(t *testing.T) {
	tl := newTestLoop(Options{})
	tl.sink.setFail(errors.New("no notification service"))
	snaps := make(chan poller.Snapshot)
	done := tl.start(t, context.Background(), snaps)
	snaps <- snap(acct("home", "a"))
	snaps <- snap(acct("home", "a", "b"))
	wantNote(t, tl.sink, "1 new mail")
	snaps <- snap(acct("home", "a", "b", "c"))
	wantNote(t, tl.sink, "1 new mail")
	tl.sink.setFail(nil)
	snaps <- snap(acct("home", "a", "b", "c", "d"))
	wantNote(t, tl.sink, "1 new mail")
	tl.sink.setFail(errors.New("no notification service"))
	snaps <- snap(acct("home", "a", "b", "c", "d", "e"))
	wantNote(t, tl.sink, "1 new mail")
	close(snaps)
	wantDone(t, done, nil)
	log := tl.log()
	if n := strings.Count(log, "notification failed"); n != 2 {
		t.Errorf("failure logged %d times, want twice (once, then again after a success):\n%s", n, log)
	}
	if !strings.Contains(log, "level=WARN") {
		t.Errorf("failure not at WARN:\n%s", log)
	}
}

func TestActions(t *testing.T) {
	var opened []string
	var marked []poller.Snapshot
	markErr := errors.New("state dir read-only")
	tl := newTestLoop(Options{
		Open: func(a poller.AccountSnapshot, _ poller.Mail) { opened = append(opened, a.Name) },
		MarkRead: func(ctx context.Context, s poller.Snapshot, account string) (int, error) {
			if account != "" {
				t.Errorf("MarkRead for account %q, want every account (\"\")", account)
			}
			marked = append(marked, s)
			return 0, markErr
		},
	})
	note := Note{Title: "2 new mails", IDs: map[string][]string{"plain": {"p"}, "web": {"w"}}}

	tl.action(ActionOpen, note) // no snapshot yet: nothing to open
	plain, web, other := acct("plain", "p"), acct("web", "w"), acct("other", "o")
	web.URL = "https://mail.example.com"
	other.OpenCmd = "thunderbird"
	s := snap(plain, other, web)
	tl.latest.Store(&s)
	tl.action(ActionOpen, note)
	if !reflect.DeepEqual(opened, []string{"web"}) {
		t.Errorf("Open opened %v, want the note's account that can be opened (web)", opened)
	}

	tl.action(ActionMarkRead, note)
	if len(marked) != 1 {
		t.Fatalf("MarkRead called %d times", len(marked))
	}
	got := map[string][]string{}
	for _, a := range marked[0].Accounts {
		if a.New != len(a.NewIDs) {
			t.Errorf("account %s: New %d for %d ids", a.Name, a.New, len(a.NewIDs))
		}
		got[a.Name] = a.NewIDs
	}
	if !reflect.DeepEqual(got, note.IDs) {
		t.Errorf("MarkRead got %v, want exactly the note's %v", got, note.IDs)
	}
	if log := tl.log(); !strings.Contains(log, "mark read from the notification failed") || !strings.Contains(log, markErr.Error()) {
		t.Errorf("MarkRead's error not logged:\n%s", log)
	}

	// Without callbacks a click does nothing, and nothing panics.
	bare := newTestLoop(Options{})
	bare.latest.Store(&s)
	bare.action(ActionOpen, note)
	bare.action(ActionMarkRead, note)
	bare.action("something-else", note)
}
