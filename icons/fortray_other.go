//go:build !windows

package icons

// TraySize is the size of the PNG ForTray returns. macOS shows tray icons at
// 16 pt, which is 32 px on Retina; StatusNotifier hosts on Linux get one
// pixmap and scale it to the panel (16–22 px at 1×, 32–44 px at 2×), and
// halving a 32 px drawing keeps it sharper than stretching a small one.
const TraySize = 32

// ForTray returns the icon in the form the tray library wants on this OS:
// a PNG of TraySize px.
func ForTray(s State) []byte { return PNG(s, TraySize) }
