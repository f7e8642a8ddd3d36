package demo

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// TestDemoTrouble: with AddTrouble, "work" fails on its password and
// "old-isp" on the network, the others work, and the right password in
// the demo's keychain brings "work" back.
func TestDemoTrouble(t *testing.T) {
	dir := t.TempDir()
	d, err := Start(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.AddTrouble(); err != nil {
		t.Fatal(err)
	}
	k := d.Secrets()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	verify := func(a accounts.Account) error {
		_, err := poller.Verify(ctx, a, &poller.Options{Password: func(ctx context.Context) (string, error) { return k.Get(ctx, a.Name) }})
		return err
	}
	want := map[string]poller.ErrorKind{"demo-imap": 0, "demo-pop3": 0, "work": poller.KindAuth, "old-isp": poller.KindNetwork}
	for _, a := range d.Accounts {
		err := verify(a)
		var got poller.ErrorKind
		if err != nil {
			got = poller.KindOf(err)
		}
		if w, ok := want[a.Name]; !ok || got != w {
			t.Errorf("%s: %v (kind %v), want kind %v", a.Name, err, got, w)
		}
		delete(want, a.Name)
	}
	if len(want) > 0 {
		t.Errorf("accounts missing: %v", want)
	}
	k.Set(ctx, "work", password)
	if err := verify(d.Accounts[2]); err != nil {
		t.Errorf("work with the right password: %v", err)
	}
	path, err := d.WriteConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := accounts.Load(path)
	if err != nil || len(cfg.Accounts) != 4 {
		t.Fatalf("config: %v, %+v", err, cfg)
	}
}
