package main

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
	"mailsneaker/pop3d"
	"mailsneaker/seen"
)

// TestMarkReadSurvivesKill kills `mailsneaker mark-read` with SIGKILL at
// random moments, again and again, with new mail delivered before every
// run: after each kill the seen set on disk loads cleanly (no recovery, no
// reset) and is either the one before the run or the one the run meant to
// write, for both accounts alike — never torn, never empty, never half
// promoted. A check that follows then finds nothing new, or exactly the
// mails no run managed to promote: never a flood of old mail.
func TestMarkReadSurvivesKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs mark-read hundreds of times")
	}
	const wantKills = 200
	// The count is what the test proves, not the speed: ~30 s alone, but a
	// loaded machine may need many times that, so the budget is whatever
	// the test binary's -timeout leaves, less a margin to report in.
	budget := 10 * time.Minute
	if dl, ok := t.Deadline(); ok {
		budget = min(budget, time.Until(dl)-30*time.Second)
	}
	pop := &pop3d.Server{}
	users := []string{"ann", "bob"}
	c := newCLIEnv(t)
	c.bin = plainBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- pop.Serve(ln) }()
	t.Cleanup(func() { pop.Close(); <-served })
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := ""
	for i, u := range users {
		pop.AddUser(u, "pw-"+u)
		// Mailboxes big enough that saving the seen set takes a moment
		// (~150 KB), so that some kills land while it is written.
		for j := range 4000 / (i + 1) {
			pop.Deliver(u, testenv.Message("Old <old@example.com>", fmt.Sprintf("old %d", j), "x"))
		}
		cfg += accountTOML(u, "pop3", port, "none", u, passwordFile(t, "pw-"+u), "")
	}
	c.writeConfig(cfg)

	// markRead runs mark-read and kills it after delay (never, if delay < 0);
	// killed says whether the kill found it still running.
	markRead := func(delay time.Duration) (killed bool, took time.Duration) {
		t.Helper()
		cmd := exec.Command(c.bin, "mark-read")
		cmd.Env = c.env
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var kill <-chan time.Time
		if delay >= 0 {
			tm := time.NewTimer(delay)
			defer tm.Stop()
			kill = tm.C
		}
		var err error
		select {
		case err = <-done:
		case <-kill:
			cmd.Process.Kill()
			err = <-done
		}
		took = time.Since(start)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return true, took
			}
		}
		if err != nil {
			t.Fatalf("mark-read: %v", err)
		}
		return false, took
	}
	type seenSet map[string]map[string]string // account → id → Message-ID
	load := func(when string) seenSet {
		t.Helper()
		s, err := seen.Open(c.state)
		if err != nil {
			t.Fatalf("%s: open the state: %v", when, err)
		}
		if s.Recovered() != "" || s.Reset() {
			t.Fatalf("%s: Recovered %q, Reset %v; want a clean load", when, s.Recovered(), s.Reset())
		}
		set := seenSet{}
		for _, u := range users {
			set[u] = s.Account(u).IDs
		}
		return set
	}
	// check runs `check --json` and wants exactly want new mails per account.
	check := func(when string, want map[string]int) {
		t.Helper()
		_, got := c.check(0)
		for _, u := range users {
			if got[u] != want[u] {
				t.Fatalf("%s: check found %v new, want %v", when, got, want)
			}
		}
	}

	// The first runs baseline the mailboxes and time unhurried runs; kills
	// are aimed within the typical (median) run of the last few.
	var took []time.Duration
	typical := func() time.Duration {
		recent := slices.Clone(took[max(0, len(took)-15):])
		slices.Sort(recent)
		return recent[len(recent)/2]
	}
	for range 4 {
		_, d := markRead(-1)
		took = append(took, d)
	}
	took = took[1:] // the baseline run reads every mail's headers
	old := load("after the first runs")
	for _, u := range users {
		if len(old[u]) != len(pop.UIDLs(u)) {
			t.Fatalf("baseline of %s holds %d ids, want the %d on the server", u, len(old[u]), len(pop.UIDLs(u)))
		}
	}
	pending := 0 // mails per account delivered but not yet promoted

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	// Killed runs by what the kill left: the old seen set, the old one and
	// the temp file of a save in progress, the new one (saved, not exited).
	kills, killedBefore, killedMidWrite, killedAfter, finished := 0, 0, 0, 0, 0
	start := time.Now()
	deadline := start.Add(budget)
	for kills < wantKills && time.Now().Before(deadline) {
		for _, u := range users {
			pop.Deliver(u, testenv.Message("New <new@example.com>", fmt.Sprintf("new %d", kills+finished), "x"))
		}
		pending++
		// A third of the kills anywhere in a run, the rest around its end,
		// where it writes.
		d := typical()
		delay := time.Duration(rng.Float64() * float64(d))
		if rng.IntN(3) > 0 {
			delay = d*8/10 + time.Duration(rng.Float64()*float64(d)*3/10)
		}
		killed, ran := markRead(delay)
		if killed {
			kills++
		} else {
			finished++
			took = append(took, ran)
		}
		// Globbed before seen.Open, which removes stale temp files.
		tmp, _ := filepath.Glob(filepath.Join(c.state, "seen.db.tmp-*"))
		when := fmt.Sprintf("run %d (kill %d after %s)", kills+finished, kills, delay.Round(time.Microsecond))
		got := load(when)
		promoted := 0
		for _, u := range users {
			want := maps.Clone(old[u])
			for _, id := range pop.UIDLs(u) {
				if _, ok := want[id]; !ok {
					want[id] = "" // Message-IDs of promoted mail are not compared
				}
			}
			for id, mid := range old[u] {
				if got[u][id] != mid {
					t.Fatalf("%s: %s: id %s changed from %q to %q", when, u, id, mid, got[u][id])
				}
			}
			switch {
			case sameKeys(got[u], old[u]):
			case sameKeys(got[u], want):
				promoted++
			default:
				t.Fatalf("%s: %s holds %d ids: neither the %d before the run nor the %d after it",
					when, u, len(got[u]), len(old[u]), len(want))
			}
		}
		switch {
		case promoted == len(users):
			pending = 0
			if killed {
				killedAfter++
			}
		case promoted > 0:
			t.Fatalf("%s: one account promoted, the other not: the save was not atomic", when)
		case !killed:
			t.Fatalf("%s: mark-read finished but promoted nothing", when)
		case len(tmp) > 0:
			killedMidWrite++
		default:
			killedBefore++
		}
		check(when, map[string]int{"ann": pending, "bob": pending})
		old = load(when + ", after the check")
	}
	t.Logf("%d kills in %d runs of ~%s, %s in all (seed %d): %d before the save, %d mid-write (temp file left, old set kept), %d after it (new set, not yet exited)",
		kills, kills+finished, typical().Round(time.Millisecond), time.Since(start).Round(time.Second), seed,
		killedBefore, killedMidWrite, killedAfter)
	if kills < wantKills {
		t.Errorf("only %d kills within %s, want %d", kills, budget, wantKills)
	}
}

// plainBinary is the binary the tests run, built without the race
// detector when they run with it. The crash soak runs mark-read and check
// hundreds of times: what a SIGKILL leaves on disk, and what check then
// finds, is the same with or without the detector; a plain run is faster
// (so the kills fit in less time); every other CLI test runs the -race
// binary.
func plainBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return binary
	}
	bin := filepath.Join(t.TempDir(), "mailsneaker")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func sameKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}
