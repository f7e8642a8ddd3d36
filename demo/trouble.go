package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"

	"mailsneaker/accounts"
)

// Keychain is the demo's stand-in for the OS keychain: the passwords of
// the demo accounts, in memory, by account name. The setup page may change
// them; nothing is written anywhere.
type Keychain struct {
	mu sync.Mutex
	m  map[string]string
}

// Get returns the password of account user.
func (k *Keychain) Get(_ context.Context, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	pw, ok := k.m[user]
	if !ok {
		return "", fmt.Errorf("demo: no password for account %q", user)
	}
	return pw, nil
}

// PasswordOf is the password source of the named account, for its
// checker's options.
func (k *Keychain) PasswordOf(name string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) { return k.Get(ctx, name) }
}

// Set stores the password of account user.
func (k *Keychain) Set(_ context.Context, user, pw string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[user] = pw
	return nil
}

// Delete forgets the password of account user.
func (k *Keychain) Delete(_ context.Context, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, user)
	return nil
}

// Secrets returns a keychain that holds the right password of every demo
// account, and the wrong one of "work" (AddTrouble).
func (d *Demo) Secrets() *Keychain {
	k := &Keychain{m: map[string]string{}}
	for _, a := range d.Accounts {
		k.m[a.Name] = password
	}
	if d.trouble {
		k.m["work"] = "not-the-" + password
	}
	return k
}

// AddTrouble adds two accounts that fail, to show what the tray says when
// something is wrong: "work" logs in to the demo IMAP server with a wrong
// password (Secrets), "old-isp" points at a port where nothing listens.
// Typing the password "demo-password" on the page that the tray's "Change
// password…" opens brings "work" back.
func (d *Demo) AddTrouble() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	closed := ln.Addr()
	ln.Close() // nothing listens there now; the OS does not hand the port out again soon
	imapAddr, err := net.ResolveTCPAddr("tcp", d.imapAddr)
	if err != nil {
		return err
	}
	caFile := d.Accounts[0].CAFile
	d.Accounts = append(d.Accounts,
		account("work", accounts.IMAP, imapAddr, caFile),
		account("old-isp", accounts.POP3, closed, caFile))
	d.trouble = true
	return nil
}

// WriteConfig writes the demo accounts to a config file in dir, for the
// setup page to edit; it returns the file's path.
func (d *Demo) WriteConfig(dir string) (string, error) {
	path := filepath.Join(dir, "config.toml")
	var errs []error
	for _, a := range d.Accounts {
		errs = append(errs, accounts.AddAccount(path, a))
	}
	return path, errors.Join(errs...)
}

// Prepare adds the failing accounts when trouble is set (AddTrouble) and
// writes the demo's config.toml into dir for the setup page; it returns the
// file's path.
func (d *Demo) Prepare(dir string, trouble bool) (string, error) {
	if trouble {
		if err := d.AddTrouble(); err != nil {
			return "", err
		}
	}
	return d.WriteConfig(dir)
}
