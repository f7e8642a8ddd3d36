//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
	"mailsneaker/internal/trayhost"
)

// connsTo counts the established TCP connections of process pid to the
// local port: its socket descriptors matched against the kernel's table.
func connsTo(t *testing.T, pid, port int) int {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(l, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "01" || !inodes[fs[9]] { // 01: ESTABLISHED
				continue
			}
			_, hexPort, _ := strings.Cut(fs[2], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port {
				n++
			}
		}
		f.Close()
	}
	return n
}

// argvRecorder is a program that records each run's argv, NUL-separated,
// in a file of its own in dir, written whole (by rename).
func argvRecorder(t *testing.T) (prog, dir string) {
	t.Helper()
	dir, bin := t.TempDir(), t.TempDir()
	prog = filepath.Join(bin, "record-argv")
	script := "#!/bin/sh\nprintf '%s\\0' \"$0\" \"$@\" > '" + dir + "/.tmp.'$$ && mv '" + dir + "/.tmp.'$$ '" + dir + "/argv.'$$\n"
	if err := os.WriteFile(prog, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return prog, dir
}

// recorded returns the argv of a run recorded in dir, if any, and removes
// every record.
func recorded(t *testing.T, dir string) ([]string, bool) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "argv.*"))
	if len(files) == 0 {
		return nil, false
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		os.Remove(f)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), true
}

// clickRecords clicks line under the entry parent until the recorder has
// run, and returns its argv. A click can be lost to a menu rebuilt under
// the host (see clickOpens).
func clickRecords(t *testing.T, item *trayhost.Item, parent, line, dir string) []string {
	t.Helper()
	deadline := time.Now().Add(2 * trayhost.Timeout)
	for time.Now().Before(deadline) {
		m := item.WaitMenu(t, "a menu with "+line, func(m trayhost.Menu) bool {
			_, ok := m.Under(parent).Find(line)
			return ok && whole(m)
		})
		item.Click(t, m.Under(parent), line)
		var argv []string
		retry := time.Now().Add(5 * time.Second)
		for time.Now().Before(retry) {
			if a, ok := recorded(t, dir); ok {
				argv = a
				break
			}
			time.Sleep(testenv.PollInterval)
		}
		if argv != nil {
			return argv
		}
	}
	t.Fatalf("a click on %q ran nothing", line)
	return nil
}

// clickUntil clicks line under parent until the menu shows done: a click
// on a menu rebuilt meanwhile is lost, as it would be for a user.
func clickUntil(t *testing.T, item *trayhost.Item, parent, line string, done func(trayhost.Menu) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * trayhost.Timeout)
	for time.Now().Before(deadline) {
		m := item.WaitMenu(t, "a menu with "+line+" under "+parent, func(m trayhost.Menu) bool {
			_, ok := m.Under(parent).Find(line)
			return (ok && whole(m)) || done(m)
		})
		if done(m) {
			return
		}
		item.Click(t, m.Under(parent), line)
		wait := time.Now().Add(5 * time.Second)
		for time.Now().Before(wait) {
			if m := item.ReadMenu(t); done(m) {
				return
			}
			time.Sleep(10 * testenv.PollInterval)
		}
	}
	t.Fatalf("clicks on %q under %q did not take effect", line, parent)
}

func rawMessage(from, subject, messageID string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: test@example.com\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n\r\nx\r\n",
		from, subject, time.Now().Format(time.RFC1123Z), messageID))
}

// TestTrayAccountControls runs the real tray against Dovecot: a paused
// account (enabled = false) holds no connection until Resume in its
// submenu writes config.toml, and none again after Pause; quiet_from mail
// is counted, ignore_from mail is not ("(1 ignored)"); a click on a mail
// runs open_command with exactly the argv its placeholders make, and a
// hostile Message-ID stays one argument that runs nothing.
func TestTrayAccountControls(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	addr := testenv.PrivateBus(t, false)
	h, c := trayDesktop(t, addr)
	prog, recs := argvRecorder(t)
	pwned := filepath.Join(t.TempDir(), "pwned")

	wu, wpw := d.AddUser(t)
	hu, hpw := d.AddUser(t)
	pu, ppw := d.AddUser(t)
	// work over implicit TLS, home (paused) over STARTTLS: each port is one account's.
	c.writeConfig(accountTOML("work", "imap", d.IMAPS, "tls", wu, passwordFile(t, wpw), d.CAFile) +
		`quiet_from = ["*@GitHub.com"]
ignore_from = ["news@shop.example"]
url = "https://mail.example.test/"
open_command = "` + prog + ` {message_id} {folder} {uid} {account} {url} > /dev/null"
` + accountTOML("home", "imap", d.IMAP, "starttls", hu, passwordFile(t, hpw), d.CAFile) +
		"enabled = false # away\n" +
		accountTOML("pop", "pop3", d.POP3S, "tls", pu, passwordFile(t, ppw), d.CAFile) +
		`count_existing = true
quiet_from = ["dee@*"]
ignore_from = ["*@shop.example"]
`)

	d.Deliver(t, wu, rawMessage("Ann <ann@example.com>", "Lunch", "<lunch.1@test.example>"))
	d.Deliver(t, wu, rawMessage("GitHub <noreply@github.com>", "CI failed", "<ci.2@test.example>"))
	d.Deliver(t, wu, rawMessage("Shop <NEWS@shop.example>", "Sale", "<sale.3@test.example>"))
	d.Deliver(t, hu, rawMessage("Dee <dee@example.com>", "Home news", "<home.4@test.example>"))
	d.Deliver(t, pu, rawMessage("Dee <dee@example.com>", "Pop news", "<pop.5@test.example>"))
	d.Deliver(t, pu, rawMessage("Shop <offers@shop.example>", "Pop sale", "<pop.6@test.example>"))

	tray := startTray(t, c)
	pid := tray.cmd.Process.Pid
	item := h.WaitItem(t, tray.exited)
	m := item.WaitMenu(t, "work checked, home paused", func(m trayhost.Menu) bool {
		return whole(m) && len(m.Under("work — 2 new (1 ignored)")) > 0 && len(m.Under("home — Paused")) > 0 &&
			len(m.Under("pop — 1 new (1 ignored)")) > 0
	})
	if e := m[0]; e.Line != "3 new mails (2 ignored) [-]" {
		t.Errorf("headline %q", e.Line)
	}
	work := m.Under("work — 2 new (1 ignored)").String()
	if !strings.Contains(work, "GitHub — CI failed") || !strings.Contains(work, "Ann — Lunch") || strings.Contains(work, "Sale") {
		t.Errorf("work's mails:\n%s", work)
	}
	if pop := m.Under("pop — 1 new (1 ignored)").String(); !strings.Contains(pop, "Dee — Pop news") || strings.Contains(pop, "sale") {
		t.Errorf("pop's mails:\n%s", pop)
	}
	if got, want := m.Under("home — Paused").String(), "  Paused: not checked, no connection [-]\n  ---\n  Resume\n  Edit account…\n"; got != want {
		t.Errorf("home's submenu:\n%s\nwant:\n%s", got, want)
	}
	// work holds its IDLE connection; home, paused, none at all.
	testenv.Eventually(t, trayhost.Timeout, func() bool { return connsTo(t, pid, d.IMAPS) > 0 }, "work's connection")
	if n := connsTo(t, pid, d.IMAP); n != 0 {
		t.Fatalf("the paused account holds %d connections", n)
	}

	// A click on a mail runs open_command with one argv element per placeholder.
	argv := clickRecords(t, item, "work — 2 new (1 ignored)", "  Ann — Lunch", recs)
	if want := []string{prog, "lunch.1@test.example", "INBOX", "1", "work", "https://mail.example.test/"}; !slices.Equal(argv, want) {
		t.Errorf("open_command argv %q, want %q", argv, want)
	}

	// A hostile Message-ID arrives as one argument and runs nothing.
	// Dovecot's ENVELOPE gives only a well-formed msg-id (RFC 5322
	// section 3.6.4), but backquotes, $, {}, ', |, & and / are all atext.
	hostile := "<`touch${IFS}" + pwned + "`'&|${IFS}touch${IFS}" + pwned + "@x>"
	d.Deliver(t, wu, rawMessage("Eve <eve@example.com>", "Hostile", hostile))
	argv = clickRecords(t, item, "work — 3 new (1 ignored)", "  Eve — Hostile", recs)
	if len(argv) != 6 || !strings.Contains(argv[1], "touch${IFS}") {
		t.Errorf("hostile open_command argv %q: want the Message-ID as one element, unexpanded", argv)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("a Message-ID ran a command")
	}

	// Resume: config.toml keeps its comment, home connects and counts.
	clickUntil(t, item, "home — Paused", "  Resume", func(m trayhost.Menu) bool { return len(m.Under("home — 1 new")) > 0 })
	if b, _ := os.ReadFile(c.config); !strings.Contains(string(b), "enabled = true # away") {
		t.Errorf("config after Resume:\n%s", b)
	}
	testenv.Eventually(t, trayhost.Timeout, func() bool { return connsTo(t, pid, d.IMAP) > 0 }, "home's connection after Resume")

	// Pause again: its connections close.
	clickUntil(t, item, "home — 1 new", "  Pause", func(m trayhost.Menu) bool { return len(m.Under("home — Paused")) > 0 })
	testenv.Eventually(t, trayhost.Timeout, func() bool { return connsTo(t, pid, d.IMAP) == 0 }, "home's connections to close")
	if b, _ := os.ReadFile(c.config); !strings.Contains(string(b), "enabled = false # away") {
		t.Errorf("config after Pause:\n%s", b)
	}
	tray.stop(t)
}
