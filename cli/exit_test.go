package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testEnv is an Env with an empty config and the given state dir.
func testEnv(t *testing.T, stateDir string) (*Env, *bytes.Buffer) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("[general]\nnotify = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	return &Env{Stdout: io.Discard, Stderr: &stderr, Logger: slog.New(slog.DiscardHandler),
		ConfigPath: cfg, StateDir: stateDir}, &stderr
}

// TestStateDirFailureExitsOne: a state dir that cannot be used is a failure
// of the run (exit 1), not a usage or config error (exit 2, which the old
// code gave). The dir is made unusable in ways root cannot bypass.
func TestStateDirFailureExitsOne(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state func(t *testing.T) string
	}{
		{"parent is a regular file", func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "not-a-dir")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(file, "mailsneaker")
		}},
		{"seen.db is a directory", func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "seen.db"), 0o700); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cmd := range []struct {
				name string
				run  func(context.Context, *Env, []string) int
			}{{"mark-read", MarkRead}, {"check", Check}} {
				env, stderr := testEnv(t, tc.state(t))
				if code := cmd.run(context.Background(), env, nil); code != ExitFailed {
					t.Errorf("%s: exit %d, want %d (stderr %q)", cmd.name, code, ExitFailed, stderr)
				}
				if !strings.Contains(stderr.String(), "seen-mail state") {
					t.Errorf("%s: stderr %q does not say what failed", cmd.name, stderr)
				}
			}
		})
	}
}

// TestUsageStillExitsTwo: arguments and config errors keep exit 2.
func TestUsageStillExitsTwo(t *testing.T) {
	env, _ := testEnv(t, t.TempDir())
	if code := MarkRead(context.Background(), env, []string{"--account", "nope"}); code != ExitUsage {
		t.Errorf("unknown account: exit %d, want %d", code, ExitUsage)
	}
	if code := MarkRead(context.Background(), env, []string{"extra"}); code != ExitUsage {
		t.Errorf("extra argument: exit %d, want %d", code, ExitUsage)
	}
	if err := os.WriteFile(env.ConfigPath, []byte("[[account]]\nname = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := MarkRead(context.Background(), env, nil); code != ExitUsage {
		t.Errorf("bad config: exit %d, want %d", code, ExitUsage)
	}
}
