package accounts

import (
	"strings"
	"testing"
	"time"
)

// TestEditKeepsConnectionBudget: the account editor writes max_connections
// and folder_poll_interval when they differ from the defaults, and a
// default account gets neither.
func TestEditKeepsConnectionBudget(t *testing.T) {
	path := writeConfig(t, "")
	a := Account{Name: "work", Protocol: IMAP, Host: "h", Username: "u"}.WithDefaults()
	if err := AddAccount(path, a); err != nil {
		t.Fatal(err)
	}
	if got := readConfig(t, path); strings.Contains(got, "max_connections") || strings.Contains(got, "folder_poll_interval") {
		t.Errorf("defaults written:\n%s", got)
	}
	a.MaxConnections, a.FolderPollInterval, a.Folders = 5, 45*time.Second, []string{"INBOX", AllFolders}
	if err := UpdateAccount(path, "work", a); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Accounts[0]
	if got.MaxConnections != 5 || got.FolderPollInterval != 45*time.Second || len(got.Folders) != 2 || got.Folders[1] != "*" {
		t.Errorf("read back max_connections %d, folder_poll_interval %v, folders %q\n%s", got.MaxConnections, got.FolderPollInterval, got.Folders, readConfig(t, path))
	}
}

// TestEditToPOP3DropsConnectionBudget: an imap account edited into a pop3
// one (the setup page builds it on the loaded account, defaults and all)
// is saved without the imap-only keys, and valid.
func TestEditToPOP3DropsConnectionBudget(t *testing.T) {
	path := writeConfig(t, "[[account]]\nname = \"work\"\nprotocol = \"imap\"\nhost = \"h\"\nusername = \"u\"\nmax_connections = 5\nfolder_poll_interval = \"1m\"\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Accounts[0]
	a.Protocol, a.Port, a.Folders = POP3, 0, nil
	if err := UpdateAccount(path, "work", a); err != nil {
		t.Fatalf("UpdateAccount to pop3: %v", err)
	}
	if got := readConfig(t, path); strings.Contains(got, "max_connections") || strings.Contains(got, "folder_poll_interval") {
		t.Errorf("imap-only keys kept in a pop3 account:\n%s", got)
	}
	b := Account{Name: "home", Protocol: IMAP, Host: "h", Username: "u"}.WithDefaults()
	b.Protocol, b.Folders = POP3, nil
	if err := AddAccount(path, b); err != nil {
		t.Errorf("AddAccount of a pop3 account with imap defaults: %v", err)
	}
}
