package notifier

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSoundHintsFileNotRegularNow: a sound file that became a FIFO, a
// symlink to a device or went away after the config was loaded is not
// handed to the notification server (which would block on it); a regular
// file and a name are.
func TestSoundHintsFileNotRegularNow(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "ding.oga")
	if err := os.WriteFile(regular, []byte("OggS"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.oga")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "dev.oga")
	if err := os.Symlink("/dev/zero", dev); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.oga")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sound, id string
	}{
		{"", "suppress-sound"},
		{"message-new-email", "sound-name"},
		{regular, "sound-file"},
		{link, "sound-file"},
		{fifo, "suppress-sound"},
		{dev, "suppress-sound"},
		{filepath.Join(dir, "gone.oga"), "suppress-sound"},
	}
	for _, tt := range tests {
		h := soundHints(tt.sound)
		if len(h) != 1 || h[0].ID != tt.id {
			t.Errorf("soundHints(%q) = %+v, want one %s hint", tt.sound, h, tt.id)
		}
	}
}
