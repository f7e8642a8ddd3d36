package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/cli"
	"mailsneaker/demo"
	"mailsneaker/internal/testenv"
)

// The poller names the account on its log lines; the options the CLI and
// the tray give it must not name it a second time ("account=a account=a").
func TestLogNamesTheAccountOnce(t *testing.T) {
	d, err := demo.Start(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pw, _ := d.Password(ctx)
	pwFile := passwordFile(t, pw)
	var cfg strings.Builder
	for _, a := range d.Accounts {
		cfg.WriteString(accountTOML(a.Name, string(a.Protocol), a.Port, string(a.Security), a.Username, pwFile, a.CAFile))
	}
	cfgPath := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs testenv.LogBuffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ConfigPath: cfgPath, StateDir: t.TempDir(), Keychain: &accounts.Keychain{}}
	if code := cli.Check(ctx, env, nil); code != cli.ExitOK {
		t.Fatalf("check: exit %d\n%s", code, logs.String())
	}
	named := map[string]int{}
	for _, line := range strings.Split(logs.String(), "\n") {
		if n := strings.Count(line, " account="); n > 1 {
			t.Errorf("account named %d times: %s", n, line)
		}
		for _, a := range d.Accounts {
			if strings.Contains(line, " account="+a.Name) {
				named[a.Name]++
			}
		}
	}
	for _, a := range d.Accounts {
		if named[a.Name] == 0 {
			t.Errorf("no log line names %s; the test proves nothing:\n%s", a.Name, logs.String())
		}
	}
}

// A tray whose notifications cannot start says so at WARN: the user gets
// no popups, which INFO would hide.
func TestNoNotifierIsAWarning(t *testing.T) {
	c := newCLIEnv(t)
	c.env = append(c.env, "XDG_RUNTIME_DIR="+t.TempDir()) // and DBUS_SESSION_BUS_ADDRESS empty: no bus
	cmd, lines := c.startLines()
	line := waitLine(t, lines, 20*time.Second, "the tray to say that there are no notifications", func(l string) bool {
		return strings.Contains(l, "no desktop notifications")
	})
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "session bus") {
		t.Errorf("want a WARN that names the missing session bus: %s", line)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("tray after SIGTERM: %v", err)
	}
}
