package icons

// TraySize is the size of the PNG ForTray returns (unused on Windows, which
// gets an ICO and picks the size itself).
const TraySize = 32

// ForTray returns the icon in the form the tray library wants on this OS:
// on Windows an ICO with several drawn sizes.
func ForTray(s State) []byte { return ICO(s) }
