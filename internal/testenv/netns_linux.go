package testenv

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// netnsEnv marks the copy of a test binary that runs inside the private
// network namespace.
const netnsEnv = "MAILSNEAKER_TEST_NETNS"

// InPrivateNetwork runs the calling top-level test (or benchmark) again,
// as a copy of the test binary in a new network and mount namespace of its
// own (unshare --net --mount), and reports whether the caller is that copy.
// There the only network is the namespace's own loopback, which the test
// may take down (Loopback) — and every service the test starts (Dovecot,
// dbus-daemon, whose abstract sockets belong to the namespace too) lives
// inside it. Replacing a file with a bind mount touches nothing outside
// either.
//
// Outside, it runs the copy and fails when the copy fails; a test's copy's
// output is logged, a benchmark's goes to stdout as it comes, so that its
// results read as the benchmark's own. It needs root; without it the test
// skips with a message that names FullTestCommand (or fails under it).
func InPrivateNetwork(t testing.TB) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == "1" {
		Loopback(t, true)
		return true
	}
	if os.Geteuid() != 0 {
		Missing(t, "a private network namespace (unshare --net needs root)")
	}
	Need(t, "a private network namespace", "unshare", "ip")
	if out, err := exec.Command("unshare", "--net", "--mount", "--", "true").CombinedOutput(); err != nil {
		Missing(t, fmt.Sprintf("a private network namespace (unshare --net: %v: %s)", err, bytes.TrimSpace(out)))
	}
	name := t.Name()
	args := []string{"--net", "--mount", "--", os.Args[0], "-test.v", "-test.count=1"}
	b, bench := t.(*testing.B)
	if bench {
		args = append(args, "-test.run", "^$", "-test.bench", "^"+name+"$",
			"-test.benchtime", flag.Lookup("test.benchtime").Value.String())
	} else {
		args = append(args, "-test.run", "^"+name+"$")
	}
	ctx := context.Background()
	if tt, ok := t.(*testing.T); ok {
		if dl, ok := tt.Deadline(); ok {
			// The copy times out first, to say where it hung.
			args = append(args, "-test.timeout", max(time.Second, time.Until(dl)-15*time.Second).Truncate(time.Second).String())
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-5*time.Second))
			defer cancel()
		}
	}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	if bench {
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("the benchmark failed in the private network namespace: %v", err)
		}
		// The copy measured; this run is one empty loop, reported as nothing.
		for b.Loop() {
		}
		b.ReportMetric(0, "ns/op")
		return false
	}
	out, err := cmd.CombinedOutput()
	t.Logf("in the private network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("the test failed in the private network namespace: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatal("the test did not pass in the private network namespace")
	}
	return false
}

// Loopback takes the namespace's loopback up or down. Call it only in the
// copy InPrivateNetwork runs: elsewhere it is the machine's.
func Loopback(t testing.TB, up bool) {
	t.Helper()
	if os.Getenv(netnsEnv) != "1" {
		t.Fatal("Loopback outside the private network namespace")
	}
	state := "down"
	if up {
		state = "up"
	}
	if out, err := exec.Command("ip", "link", "set", "lo", state).CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo %s: %v\n%s", state, err, out)
	}
}

// SeedEnv replays a run of a randomised test: MAILSNEAKER_TEST_SEED=N
// makes Rand return the generator the run that logged seed N had.
const SeedEnv = "MAILSNEAKER_TEST_SEED"

// Rand returns a random generator for the test's timings, seeded from
// SeedEnv or else at random, and logs the seed.
func Rand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := rand.Uint64()
	if s := os.Getenv(SeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", SeedEnv, s, err)
		}
	}
	t.Logf("seed %d (%s=%d replays it)", seed, SeedEnv, seed)
	return rand.New(rand.NewPCG(seed, seed))
}
