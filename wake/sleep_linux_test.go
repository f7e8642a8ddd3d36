package wake_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsneaker/internal/testenv"
	"mailsneaker/wake"
)

// fakeLogind answers logind's Inhibit with one end of a pipe and watches
// the other for the release.
type fakeLogind struct {
	t      testing.TB
	mu     sync.Mutex
	reads  []*os.File // ours: EOF once every copy of the lock is closed
	writes []*os.File // the lock, our copy
}

// Inhibit is org.freedesktop.login1.Manager.Inhibit.
func (f *fakeLogind) Inhibit(what, who, why, mode string) (dbus.UnixFD, *dbus.Error) {
	if what != "sleep" || mode != "delay" {
		f.t.Errorf("Inhibit(%q, %q, %q, %q), want a delay lock on sleep", what, who, why, mode)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, dbus.MakeFailedError(err)
	}
	fd := dbus.UnixFD(w.Fd()) // before held may close w
	f.mu.Lock()
	f.reads, f.writes = append(f.reads, r), append(f.writes, w)
	f.mu.Unlock()
	return fd, nil
}

// held waits until lock i was handed over, closes our copy of it, and
// returns a channel closed when the holder releases it.
func (f *fakeLogind) held(i int) <-chan struct{} {
	f.t.Helper()
	var r, w *os.File
	waitFor(f.t, fmt.Sprintf("sleep delay lock %d taken", i+1), 20*time.Second, func() string {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.reads) <= i {
			return "Inhibit not called"
		}
		r, w = f.reads[i], f.writes[i]
		// The pipe's read end, our write end and the holder's copy,
		// which arrives in this same process once the reply is read.
		if n := fdsOf(f.t, r); n < 3 {
			return fmt.Sprintf("%d descriptors of the pipe", n)
		}
		return ""
	})
	w.Close()
	released := make(chan struct{})
	go func() {
		defer close(released)
		buf := make([]byte, 1)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	}()
	f.t.Cleanup(func() { r.Close() })
	return released
}

// fdsOf counts this process's descriptors of f's pipe or socket.
func fdsOf(t testing.TB, f *os.File) int {
	t.Helper()
	want, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == want {
			n++
		}
	}
	return n
}

// clientConns counts this process's open TCP sockets to port on 127.0.0.1.
func clientConns(t testing.TB, port int) int {
	t.Helper()
	ours := map[string]bool{}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			ours[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	suffix := fmt.Sprintf(":%04X", port)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fl := strings.Fields(sc.Text())
		if len(fl) > 9 && strings.HasSuffix(fl[2], suffix) && ours[fl[9]] {
			n++
		}
	}
	return n
}

// TestFollowSleepAndWakeDovecot runs the real manager against Dovecot,
// with an hourly poll so that only IDLE or a reconnect brings mail, and a
// private bus playing the system bus, where the test plays logind and
// NetworkManager. After PrepareForSleep(true) Dovecot holds no connection
// of the account; mail delivered while asleep is counted as soon as
// PrepareForSleep(false) comes; the sleep delay lock is released only
// once our side has closed every connection, and taken again on waking; after NetworkManager's connected-global
// the account is on new connections.
func TestFollowSleepAndWakeDovecot(t *testing.T) {
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	addr := testenv.SessionBus(t, false)
	login1 := testenv.Connect(t, addr)
	nm := testenv.Connect(t, addr)
	for c, name := range map[*dbus.Conn]string{login1: "org.freedesktop.login1", nm: "org.freedesktop.NetworkManager"} {
		if r, err := c.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("own %s: %v %v", name, r, err)
		}
	}
	logind := &fakeLogind{t: t}
	if err := login1.Export(logind, "/org/freedesktop/login1", "org.freedesktop.login1.Manager"); err != nil {
		t.Fatal(err)
	}
	r := runManager(t, d, d.Addr(d.IMAPS), user, pw)
	ctx, snaps := r.ctx, r.snaps
	followed := make(chan struct{})
	go func() { defer close(followed); wake.Follow(ctx, slog.New(slog.DiscardHandler), addr, r.m) }()

	waitCount(t, snaps, "0 new at start", 0)
	released := logind.held(0)
	// IDLE is up when Dovecot sees two connections: the check's and IDLE's.
	n2 := func(c []string) bool { return len(c) == 2 }
	waitConns(t, d, user, "the check and IDLE connections", n2)

	if n := clientConns(t, d.IMAPS); n != 2 {
		t.Fatalf("%d connections to Dovecot seen on our side, want the check's and IDLE's", n)
	}
	emit(t, login1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", true)
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		t.Fatal("the sleep delay lock was not released within 10 s of PrepareForSleep(true)")
	}
	// logind suspends the moment the lock is released: by then every
	// connection must be closed on our side.
	if n := clientConns(t, d.IMAPS); n != 0 {
		t.Errorf("%d connections to Dovecot still open when the sleep delay lock was released", n)
	}
	waitConns(t, d, user, "no connection after PrepareForSleep(true)", func(c []string) bool { return len(c) == 0 })
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "while asleep", "x"))

	emit(t, login1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", false)
	waitCount(t, snaps, "the mail delivered while asleep, after PrepareForSleep(false)", 1)
	logind.held(1) // taken again after waking
	before := waitConns(t, d, user, "IDLE again after waking", n2)

	// The network came back: the old connections go, new ones count.
	emit(t, nm, "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager.StateChanged", uint32(70))
	waitConns(t, d, user, "new connections after connected-global", func(c []string) bool {
		return len(c) == 2 && !slices.Contains(c, before[0]) && !slices.Contains(c, before[1])
	})
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "after the network came back", "x"))
	waitCount(t, snaps, "the mail delivered after connected-global", 2)

	r.stop(t)
	<-followed
}
