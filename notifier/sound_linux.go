package notifier

import (
	"path/filepath"

	"github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"
)

// soundHints are the hints that make the server play sound (Desktop
// Notifications Specification, "Hints"): sound-file for a path (the config
// loader made it absolute), sound-name for a name of the freedesktop sound
// theme, and suppress-sound for none, so that a server with a default
// sound stays silent too.
func soundHints(sound string) []notify.Hint {
	switch {
	case sound == "":
		return []notify.Hint{{ID: "suppress-sound", Variant: dbus.MakeVariant(true)}}
	case filepath.IsAbs(sound):
		return []notify.Hint{{ID: "sound-file", Variant: dbus.MakeVariant(sound)}}
	}
	return []notify.Hint{{ID: "sound-name", Variant: dbus.MakeVariant(sound)}}
}
