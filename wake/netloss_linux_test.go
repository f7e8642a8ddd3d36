package wake_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"go.uber.org/goleak"

	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
	"mailsneaker/wake"
)

// flaps is how many times TestNetworkLoss takes the link down and up:
// under MAILSNEAKER_SOAK=1 (scripts/test) the 50, else a few that
// still cover a flap with and one without NetworkManager's signal.
func flaps() int {
	if testenv.Soak() {
		return 50
	}
	return 4
}

// TestNetworkLoss takes the network away for real: Dovecot and the real
// manager run in a private network namespace whose loopback the test takes
// down and up, with a private bus where the test plays NetworkManager.
//   - link down while IDLE: the account shows a network error (not a
//     refused login) within 60 s;
//   - mail delivered while down: counted soon after the link is back;
//   - flaps (50 under MAILSNEAKER_SOAK=1), each an outage of 0.2–5 s
//     (seeded, the seed logged) with a mail delivered during it: after
//     each the count is the truth and every mail keeps its id (no second
//     notification); in the end there are no more goroutines or open
//     files than before, and once the manager stops, none of the
//     goroutines it started is left (goleak).
func TestNetworkLoss(t *testing.T) {
	if !testenv.InPrivateNetwork(t) {
		return
	}
	rng := testenv.Rand(t)
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	addr := testenv.SessionBus(t, false)
	nm := testenv.Connect(t, addr)
	if r, err := nm.RequestName("org.freedesktop.NetworkManager", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own NetworkManager's name: %v %v", r, err)
	}
	online := func() {
		emit(t, nm, "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager.StateChanged", uint32(70))
	}
	// Everything alive now is the test's; the manager's and Follow's
	// goroutines must all be gone once they stop.
	ignore := goleak.IgnoreCurrent()
	r := runManager(t, d, d.Addr(d.IMAPS), user, pw)
	ctx, snaps := r.ctx, r.snaps
	followed := make(chan struct{})
	go func() { defer close(followed); wake.Follow(ctx, slog.New(slog.DiscardHandler), addr, r.m) }()

	truth := 0
	deliver := func(what string) {
		truth++
		d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", what, "x"))
	}
	// Every mail keeps its id through the outages: one that vanished and
	// came back, or a second id for a mail, would be notified twice.
	ids := map[string]bool{}
	counted := func(what string) time.Duration {
		t0 := time.Now()
		waitSnapshot(t, snaps, what, 30*time.Second, func(s poller.AccountSnapshot) bool {
			if s.New > truth {
				t.Errorf("%s: %d new, but %d delivered", what, s.New, truth)
			}
			if s.State == poller.StateOK {
				for id := range ids {
					if !slices.Contains(s.NewIDs, id) {
						t.Errorf("%s: mail %s is no longer new", what, id)
						delete(ids, id)
					}
				}
				for _, id := range s.NewIDs {
					ids[id] = true
				}
			}
			return s.State == poller.StateOK && s.New == truth
		})
		return time.Since(t0)
	}
	counted("the first check")
	waitConns(t, d, user, "the check and IDLE connections", func(c []string) bool { return len(c) == 2 })
	goroutines, fds := runtime.NumGoroutine(), openFiles(t)

	// Link down while IDLE.
	testenv.Loopback(t, false)
	t0 := time.Now()
	s := waitSnapshot(t, snaps, "an error after the link went down", 60*time.Second, func(s poller.AccountSnapshot) bool {
		return s.State == poller.StateError
	})
	t.Logf("link down → %q after %s", s.Err, time.Since(t0).Round(time.Millisecond))
	if s.Err.Kind != poller.KindNetwork {
		t.Errorf("with the link down the account shows %v (%q), want a network error", s.Err.Kind, s.Err)
	}
	if s.ErrSince.Before(t0) {
		t.Errorf("offline since %v, before the link went down at %v", s.ErrSince, t0)
	}

	// Mail delivered while down, counted after the link comes back.
	deliver("while the link was down")
	testenv.Loopback(t, true)
	online()
	t.Logf("link up → counted after %s", counted("the mail delivered while the link was down").Round(time.Millisecond))

	// Flaps, each with a mail delivered while down. After every other one
	// NetworkManager says connected-global (as it does after a Wi-Fi
	// change); after the others the connections must survive or recover
	// on their own.
	n := flaps()
	for i := range n {
		testenv.Loopback(t, false)
		deliver(fmt.Sprintf("flap %d", i))
		down := time.Duration(200+rng.IntN(4800)) * time.Millisecond
		time.Sleep(down) // the outage itself, not a wait for an event
		testenv.Loopback(t, true)
		if i%2 == 0 {
			online()
		}
		t.Logf("flap %d (down %s, signal %v): counted %d after %s", i, down, i%2 == 0, truth,
			counted(fmt.Sprintf("the count after flap %d", i)).Round(time.Millisecond))
	}
	waitConns(t, d, user, "the check and IDLE connections after the flaps", func(c []string) bool { return len(c) == 2 })
	// A leak per flap would show as n or more; the slack of 2 is for
	// what is alive at one moment and not the next (an IDLE restart, a
	// poke watcher).
	waitFor(t, "no more goroutines and open files than before the flaps", 30*time.Second, func() string {
		g, f := runtime.NumGoroutine(), openFiles(t)
		if g <= goroutines+2 && f <= fds+2 {
			return ""
		}
		return fmt.Sprintf("%d goroutines (before: %d), %d open files (before: %d)", g, goroutines, f, fds)
	})
	t.Logf("after %d flaps: %d goroutines (before: %d), %d open files (before: %d)", n, runtime.NumGoroutine(), goroutines, openFiles(t), fds)

	r.stop(t)
	<-followed
	goleak.VerifyNone(t, ignore)
}

func openFiles(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// bindFile replaces path, in this mount namespace only, with a file of
// content and returns the file to write to change it (in place: the
// mount holds the inode).
func bindFile(t *testing.T, path, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "--bind", f, path).CombinedOutput(); err != nil {
		t.Fatalf("mount --bind %s: %v\n%s", path, err, out)
	}
	return f
}

// TestNameStopsResolving: the account's host is a name in the namespace's
// own /etc/hosts (and the only name server is 127.0.0.1, where none
// runs). When the name goes from the file, a reconnect shows "cannot
// resolve HOST", not a password or certificate problem; when it is back,
// the account recovers on its own and counts what came meanwhile.
func TestNameStopsResolving(t *testing.T) {
	if !testenv.InPrivateNetwork(t) {
		return
	}
	hosts := bindFile(t, "/etc/hosts", "127.0.0.1 localhost\n")
	bindFile(t, "/etc/resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
	bindFile(t, "/etc/nsswitch.conf", "hosts: files dns\n")
	resolves := func(want bool) func() string {
		return func() string {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := net.DefaultResolver.LookupHost(ctx, "localhost")
			if (err == nil) == want {
				return ""
			}
			return fmt.Sprintf("lookup localhost: %v", err)
		}
	}
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	r := runManager(t, d, net.JoinHostPort("localhost", strconv.Itoa(d.IMAPS)), user, pw)
	m, ctx, snaps := r.m, r.ctx, r.snaps
	waitSnapshot(t, snaps, "the first check", 30*time.Second, func(s poller.AccountSnapshot) bool {
		return s.State == poller.StateOK && s.New == 0
	})

	if err := os.WriteFile(hosts, []byte("127.0.0.1 elsewhere.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Go rereads /etc/hosts at most every 5 s.
	waitFor(t, "localhost to stop resolving", 30*time.Second, resolves(false))
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "while the name was gone", "x"))
	if err := m.Reconnect(ctx); err != nil { // as after a change of network
		t.Fatal(err)
	}
	s := waitSnapshot(t, snaps, "an error once the name is gone", 30*time.Second, func(s poller.AccountSnapshot) bool {
		return s.State == poller.StateError
	})
	t.Logf("name gone → %q", s.Err)
	if s.Err.Kind != poller.KindNetwork || !strings.HasPrefix(s.Err.Msg, "cannot resolve localhost") {
		t.Errorf("with the name gone the account shows %v %q, want a network error \"cannot resolve localhost\"", s.Err.Kind, s.Err)
	}

	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	waitSnapshot(t, snaps, "the mail counted once the name resolves again", 60*time.Second, func(s poller.AccountSnapshot) bool {
		return s.State == poller.StateOK && s.New == 1
	})
	t.Logf("name back → counted after %s (backoff)", time.Since(t0).Round(time.Millisecond))
	r.stop(t)
}
