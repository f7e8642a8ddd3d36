package notifier

import (
	"os"
	"path/filepath"

	"github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"
)

// soundHints are the hints that make the server play sound (Desktop
// Notifications Specification, "Hints"): sound-file for a path (the config
// loader made it absolute), sound-name for a name of the freedesktop sound
// theme, and suppress-sound for none, so that a server with a default
// sound stays silent too. The config loader checked that the file was a
// regular file, but it may have changed since (a symlink turned to a FIFO
// or a device, a file in a shared folder swapped): the server would block
// or read forever on it, so a file that is not regular now is silence.
func soundHints(sound string) []notify.Hint {
	suppress := []notify.Hint{{ID: "suppress-sound", Variant: dbus.MakeVariant(true)}}
	switch {
	case sound == "":
		return suppress
	case filepath.IsAbs(sound):
		if fi, err := os.Stat(sound); err != nil || !fi.Mode().IsRegular() {
			return suppress
		}
		return []notify.Hint{{ID: "sound-file", Variant: dbus.MakeVariant(sound)}}
	}
	return []notify.Hint{{ID: "sound-name", Variant: dbus.MakeVariant(sound)}}
}
