// Package testenv starts the real services MailSneaker's integration tests
// run against — Dovecot, a private D-Bus session bus, gnome-keyring — and
// decides what happens when one is missing: a skip that names the command
// that runs the full suite, or, under that command (MAILSNEAKER_FULL_TEST=1),
// a failure.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// FullTestCommand is the command that installs every service and runs the
// whole suite; skips name it.
const FullTestCommand = "scripts/test"

// Full reports whether the tests run under the full test command, where a
// missing service is a failure rather than a skip.
func Full() bool { return os.Getenv("MAILSNEAKER_FULL_TEST") == "1" }

// SoakEnv is the environment variable that makes the soak tests run their
// long counts (MAILSNEAKER_SOAK=1): the default counts prove every step of a
// soak at least once, the long ones hunt rare timings.
const SoakEnv = "MAILSNEAKER_SOAK"

// Soak reports whether the soak tests run their long counts.
func Soak() bool { return os.Getenv(SoakEnv) == "1" }

// Need checks that every program in progs is on PATH; if one is not, the
// test is skipped (or fails under the full test command).
func Need(t testing.TB, what string, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			Missing(t, what+" ("+p+" not found)")
		}
	}
}

// Missing skips the test because what is not available, or fails it under
// the full test command.
func Missing(t testing.TB, what string) {
	t.Helper()
	if Full() {
		t.Fatalf("%s is not available, but MAILSNEAKER_FULL_TEST=1 requires it", what)
	}
	t.Skipf("%s is not available; run %s to install it and run this test", what, FullTestCommand)
}
