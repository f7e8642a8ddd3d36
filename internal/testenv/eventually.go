package testenv

import (
	"fmt"
	"testing"
	"time"
)

// PollInterval is how long Eventually waits between two calls of its
// condition: short against the tests' timeouts, long enough that a waiting
// test costs no CPU worth measuring.
const PollInterval = 5 * time.Millisecond

// Eventually calls cond at once and then every PollInterval until it
// returns true, and fails the test (t.Fatalf) if it has not within timeout.
// The message is "timed out after <timeout> waiting for " and format with
// args; fmt formats args only then, so a pointer to a strings.Builder, or a
// map, shows the state at the deadline rather than at the call.
//
// cond runs on the caller's goroutine, so it may itself fail the test, and
// it may drain a channel without blocking (select with a default) to wait
// for an event.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, fmt.Sprintf(format, args...))
			return
		}
		time.Sleep(PollInterval)
	}
}

// Within runs fn and fails the test if it has not returned after timeout:
// for calls that must answer, not hang (a FIFO, a device, a stuck server).
func Within(t testing.TB, timeout time.Duration, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		t.Fatalf("no answer within %s: the call hangs", timeout)
		return nil
	}
}
