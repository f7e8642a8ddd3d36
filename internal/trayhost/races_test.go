package trayhost

import "testing"

// Two reports as the race detector writes them, cut short.
const (
	libraryRace = `
WARNING: DATA RACE
Write at 0x0000014fe098 by goroutine 129:
  fyne.io/systray.refresh()
      /root/go/pkg/mod/fyne.io/systray@v1.12.2/systray_menu_unix.go:423 +0x19e
  fyne.io/systray.(*tray).GetLayout.func1()
      /root/go/pkg/mod/fyne.io/systray@v1.12.2/systray_menu_unix.go:87 +0x29

Previous read at 0x0000014fe098 by goroutine 128:
  reflect.Value.Uint()
      /usr/local/go/src/reflect/value.go:2549 +0x9de
  github.com/godbus/dbus/v5.(*encoder).encode()
      /root/go/pkg/mod/github.com/godbus/dbus/v5@v5.2.4/encoder.go:99 +0x9f2
  mailsneaker/tray.(*loop).draw()
      /work/main/tray/loop.go:300 +0x1

Goroutine 129 (running) created at:
  fyne.io/systray.(*tray).GetLayout()
      /root/go/pkg/mod/fyne.io/systray@v1.12.2/systray_menu_unix.go:84 +0x1
`
	ourRace = `
WARNING: DATA RACE
Write at 0x00c000264270 by goroutine 34:
  mailsneaker/tray.(*loop).draw()
      /work/main/tray/loop.go:300 +0x1
  fyne.io/systray.SetIcon()
      /root/go/pkg/mod/fyne.io/systray@v1.12.2/systray_unix.go:63 +0x1fa

Previous read at 0x00c000264270 by goroutine 35:
  fyne.io/systray.refresh()
      /root/go/pkg/mod/fyne.io/systray@v1.12.2/systray_menu_unix.go:423 +0x19e
`
)

func TestInLibraries(t *testing.T) {
	if !InLibraries(libraryRace) {
		t.Error("a race between fyne.io/systray and godbus is blamed on the caller")
	}
	if InLibraries(ourRace) {
		t.Error("a race with an access in mailsneaker is blamed on the libraries")
	}
	if InLibraries("WARNING: DATA RACE\n") {
		t.Error("a report without its two accesses is blamed on the libraries")
	}
}
