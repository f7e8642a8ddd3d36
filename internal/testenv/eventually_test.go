package testenv

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as a real test's does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls Eventually on a fatalRecorder and returns the failure message
// ("" when it succeeded).
func run(timeout time.Duration, cond func() bool, format string, args ...any) string {
	f := &fatalRecorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Eventually(f, timeout, cond, format, args...)
	}()
	<-done
	return f.msg
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	if msg := run(time.Minute, func() bool { return calls.Add(1) == 3 }, "three calls"); msg != "" {
		t.Fatalf("failed: %s", msg)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3 (it must stop at the first true)", n)
	}
}

func TestEventuallyFailsAtTheDeadline(t *testing.T) {
	t.Parallel()
	var state strings.Builder
	state.WriteString("at the call")
	var calls atomic.Int32
	start := time.Now()
	msg := run(50*time.Millisecond, func() bool {
		if calls.Add(1) == 2 {
			state.Reset()
			state.WriteString("at the deadline")
		}
		return false
	}, "the %s (state %s)", "answer", &state)
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("gave up after %s, before the 50ms timeout", took)
	}
	if want := "timed out after 50ms waiting for the answer (state at the deadline)"; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if calls.Load() < 2 {
		t.Errorf("cond called %d times; it must be polled", calls.Load())
	}
}
