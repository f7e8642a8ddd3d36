package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A plain `go build` in a git checkout prints the commit. This machine's
// environment may set GOFLAGS=-buildvcs=false; the build here asks for VCS
// stamping explicitly, in a fresh repository holding a copy of the source
// (git worktrees do not get stamped). Two builds: skipped with -short.
func TestVersionFromGitBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	t.Parallel()
	for _, prog := range []string{"git", "go"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("no %s", prog)
		}
	}
	files, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	src := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // deleted in the working tree
		}
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("git", "init", "-q")
	run("git", "add", "-A")
	run("git", "commit", "-qm", "copy")
	head := run("git", "rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "mailsneaker")
	run("go", "build", "-o", bin, ".")
	if got, want := run(bin, "--version"), "mailsneaker dev-"+head[:12]; got != want {
		t.Errorf("clean build: %q, want %q", got, want)
	}
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("go", "build", "-o", bin, ".")
	if got := run(bin, "--version"); !regexp.MustCompile(`^mailsneaker dev-` + head[:12] + `-dirty$`).MatchString(got) {
		t.Errorf("modified build: %q, want dev-%s-dirty", got, head[:12])
	}
}
