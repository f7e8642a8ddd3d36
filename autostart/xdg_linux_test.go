package autostart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mailsneaker/internal/testenv"
)

// validate runs desktop-file-validate on path.
func validate(t *testing.T, path string) {
	t.Helper()
	testenv.Need(t, "desktop-file-validate", "desktop-file-validate")
	out, err := exec.Command("desktop-file-validate", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("desktop-file-validate %s: %v\n%s", filepath.Base(path), err, out)
	}
}

func TestXDGAutostart(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("XDG_CONFIG_DIRS", t.TempDir()) // no system entry
	entry := filepath.Join(cfg, "autostart", "mailsneaker.desktop")

	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled before Enable: %v %v", on, err)
	}
	if err := Enable("relative/mailsneaker"); err == nil {
		t.Error("Enable accepted a relative path")
	}
	for _, exe := range []string{"/usr/local/bin/mailsneaker", `/opt/Mail "Sneaker"/100% $x\bin/mailsneaker`} {
		if err := Enable(exe); err != nil {
			t.Fatal(err)
		}
		if on, err := Enabled(); err != nil || !on {
			t.Fatalf("Enabled after Enable(%q): %v %v", exe, on, err)
		}
		b, err := os.ReadFile(entry)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"\nExec=" + quoteExec(exe) + "\n", "\nIcon=mailsneaker\n", "\nX-GNOME-Autostart-enabled=true\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("entry lacks %q:\n%s", want, b)
			}
		}
		validate(t, entry)
	}
	if names, _ := filepath.Glob(filepath.Join(cfg, "autostart", ".*")); len(names) > 0 {
		t.Errorf("temporary files left behind: %v", names)
	}
	if fi, err := os.Stat(entry); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("entry mode: %v %v", fi, err)
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Errorf("entry still there after Disable: %v", err)
	}
	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled after Disable: %v %v", on, err)
	}
	if err := Disable(); err != nil {
		t.Fatalf("second Disable: %v", err)
	}
}

// A system-wide entry (from a distribution package) is overridden, not deleted.
func TestXDGAutostartSystemEntry(t *testing.T) {
	cfg, sys := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("XDG_CONFIG_DIRS", "relative:"+sys)
	if err := os.MkdirAll(filepath.Join(sys, "autostart"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sys, "autostart", "mailsneaker.desktop"), []byte(desktopEntry("/usr/bin/mailsneaker")), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(); err != nil || !on {
		t.Fatalf("Enabled with a system entry: %v %v", on, err)
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled after Disable: %v %v", on, err)
	}
	validate(t, filepath.Join(cfg, "autostart", "mailsneaker.desktop"))
	if err := Enable("/usr/bin/mailsneaker"); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(); err != nil || !on {
		t.Fatalf("Enabled after Enable: %v %v", on, err)
	}
}

// launcher.desktop is what make install puts in share/applications.
func TestLauncherTemplate(t *testing.T) {
	b, err := os.ReadFile("launcher.desktop")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nType=Application\n", "\nCategories=Network;Email;\n", "\nExec=mailsneaker\n", "\nIcon=mailsneaker\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("launcher.desktop lacks %q", want)
		}
	}
	validate(t, "launcher.desktop")
}
