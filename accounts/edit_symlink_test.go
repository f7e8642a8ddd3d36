package accounts

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEditWritesThroughSymlink: with config.toml a relative symbolic link
// into a dotfiles tree (as stow makes), add, update and remove edit the
// target and keep the link; the old code replaced the link with a file.
func TestEditWritesThroughSymlink(t *testing.T) {
	root := t.TempDir()
	dotfiles := filepath.Join(root, "dotfiles", "mailsneaker")
	cfgDir := filepath.Join(root, "config", "mailsneaker")
	for _, d := range []string{dotfiles, cfgDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(dotfiles, "config.toml")
	if err := os.WriteFile(target, []byte(editBase), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(cfgDir, "config.toml")
	if err := os.Symlink(filepath.Join("..", "..", "dotfiles", "mailsneaker", "config.toml"), link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	checkLink := func(step, want, notWant string) {
		t.Helper()
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("after %s: %s is no longer a symbolic link (%v, %v)", step, link, fi.Mode(), err)
		}
		b, err := os.ReadFile(target)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) || (notWant != "" && strings.Contains(string(b), notWant)) {
			t.Fatalf("after %s the target holds:\n%s", step, b)
		}
		ents, _ := os.ReadDir(dotfiles)
		if len(ents) != 1 {
			t.Errorf("after %s the dotfiles dir holds %d entries, want only config.toml", step, len(ents))
		}
	}
	a := Account{Name: "linked", Protocol: IMAP, Host: "imap.example.net", Username: "x"}
	if err := AddAccount(link, a); err != nil {
		t.Fatal(err)
	}
	checkLink("add", `name = "linked"`, "")
	a.Host = "imap2.example.net"
	if err := UpdateAccount(link, "linked", a); err != nil {
		t.Fatal(err)
	}
	checkLink("update", "imap2.example.net", "imap.example.net\"")
	if err := RemoveAccount(link, "linked"); err != nil {
		t.Fatal(err)
	}
	checkLink("remove", "# My mail, edited by hand.", "linked")
}

// TestEditRefusesDanglingSymlink: a link to a missing file stays an error;
// the edit must not replace the link with a new regular file.
func TestEditRefusesDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "config.toml")
	if err := os.Symlink(filepath.Join(dir, "gone", "config.toml"), link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	err := AddAccount(link, Account{Name: "x", Protocol: IMAP, Host: "h", Username: "u"})
	if err == nil || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("AddAccount through a dangling link = %v, want an error naming it", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the dangling link was replaced: %v, %v", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone")); err == nil {
		t.Fatal("the link's target directory was created")
	}
}
