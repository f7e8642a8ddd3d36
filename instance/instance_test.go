package instance

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

// TestSecondProcessRefused takes the lock here and tries it from a child
// process: flock is per open file, so a second process is what counts.
func TestSecondProcessRefused(t *testing.T) {
	if dir := os.Getenv("INSTANCE_CHILD_DIR"); dir != "" {
		_, err := Lock(dir, "tray.lock")
		if !errors.Is(err, ErrRunning) {
			t.Fatalf("child: Lock = %v, want ErrRunning", err)
		}
		return
	}
	dir := t.TempDir()
	release, err := Lock(dir, "tray.lock")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondProcessRefused$")
	cmd.Env = append(os.Environ(), "INSTANCE_CHILD_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	release()
	release2, err := Lock(dir, "tray.lock")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release2()
}
