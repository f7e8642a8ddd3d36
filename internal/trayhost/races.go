package trayhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CheckRaces fails the test for every data race in report (a tray process's
// race detector output) unless both accesses happen inside fyne.io/systray
// or godbus. Those are known races in fyne v1.12.2 that no caller can
// avoid: GetLayout reads the menu revision under one lock while its own
// 150 ms timer goroutine bumps it under another, and SetIcon's pixmap is
// handed to D-Bus replies without a barrier the race detector can see.
// Run the tray with GORACE="exitcode=0 ..." so that only this judges them.
func CheckRaces(t testing.TB, report string) {
	t.Helper()
	for _, block := range strings.Split(report, "==================") {
		if !strings.Contains(block, "WARNING: DATA RACE") {
			continue
		}
		if InLibraries(block) {
			t.Logf("known data race inside fyne.io/systray (not ours):%s", firstLines(block, 12))
			continue
		}
		t.Errorf("data race in the tray process:%s", block)
	}
}

// CheckRaceLogs is CheckRaces on the files a process run with
// GORACE="log_path=prefix" wrote (prefix.PID).
func CheckRaceLogs(t testing.TB, prefix string) {
	t.Helper()
	files, err := filepath.Glob(prefix + ".*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		CheckRaces(t, string(b))
	}
}

// InLibraries reports whether the first frame outside the runtime of both
// accesses in one race report lies in fyne.io/systray or godbus.
func InLibraries(block string) bool {
	n := 0
	inAccess := false
	for _, l := range strings.Split(block, "\n") {
		switch {
		case strings.Contains(l, " at 0x") && strings.Contains(l, "by goroutine"):
			inAccess = true
			n++
		case inAccess && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "      "):
			f := strings.TrimSpace(l)
			if strings.HasPrefix(f, "runtime.") || strings.HasPrefix(f, "reflect.") || strings.HasPrefix(f, "internal/") {
				continue
			}
			if !strings.HasPrefix(f, "fyne.io/systray") && !strings.HasPrefix(f, "github.com/godbus/dbus") {
				return false
			}
			inAccess = false
		}
	}
	return n == 2
}

func firstLines(s string, n int) string {
	ls := strings.SplitN(s, "\n", n+1)
	return strings.Join(ls[:min(n, len(ls))], "\n")
}
