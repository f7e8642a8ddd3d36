//go:build linux

package main

import (
	"bytes"
	"maps"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
	"mailsneaker/internal/trayhost"
	"mailsneaker/seen"
)

// trayProc is one run of the mailsneaker binary as the tray.
type trayProc struct {
	cmd     *exec.Cmd
	stderr  bytes.Buffer // read only after exited
	exited  chan struct{}
	err     error  // Wait's, set before exited closes
	raceLog string // GORACE log_path: the race reports go to raceLog.PID
}

// trayDesktop starts a tray host (the test's StatusNotifierWatcher) on
// the session bus at addr, before any tray, and returns it with a cliEnv
// whose commands run on that desktop: its bus, and a runtime dir and
// config dirs of their own, not this machine's (its $XDG_RUNTIME_DIR/bus,
// the page's launch files, system autostart entries).
func trayDesktop(t *testing.T, addr string) (*trayhost.Host, *cliEnv) {
	t.Helper()
	h := trayhost.Start(t, testenv.Connect(t, addr))
	c := newCLIEnv(t)
	c.env = append(c.env, "DBUS_SESSION_BUS_ADDRESS="+addr,
		"XDG_RUNTIME_DIR="+t.TempDir(), "XDG_CONFIG_DIRS="+t.TempDir())
	return h, c
}

// startTray runs the tray (no command, or args) in c's XDG home. Under -race the
// binary is race-enabled and fyne.io/systray has races of its own, so the
// reports go to files that stop sorts with trayhost.CheckRaceLogs, and they
// do not change the exit status.
func startTray(t *testing.T, c *cliEnv, args ...string) *trayProc {
	t.Helper()
	p := &trayProc{exited: make(chan struct{}), raceLog: filepath.Join(t.TempDir(), "race")}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(slices.Clip(c.env), "GORACE=exitcode=0 halt_on_error=0 log_path="+p.raceLog)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("tray process %d stderr:\n%s", p.cmd.Process.Pid, p.stderr.String())
		}
	})
	return p
}

// stop ends the tray with SIGTERM, as a session logout does, and checks
// that it exits cleanly and with no data race of ours.
func (p *trayProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(trayhost.Timeout):
		t.Fatal("the tray did not exit after SIGTERM")
	}
	if p.err != nil {
		t.Errorf("tray after SIGTERM: %v\n%s", p.err, p.stderr.String())
	}
	trayhost.CheckRaceLogs(t, p.raceLog)
}

var lastChecked = regexp.MustCompile(`(?m)^( *)Last checked .* \[-\]$`)

// menuText is the menu as lines, with the time of each check left out.
func menuText(m trayhost.Menu) string {
	return lastChecked.ReplaceAllString(m.String(), "${1}Last checked … [-]")
}

// waitMenu waits until the item's whole menu reads want (menuText): a
// menu read while the tray rebuilds it is only its first part.
func waitMenu(t *testing.T, item *trayhost.Item, when, want string) trayhost.Menu {
	t.Helper()
	return item.WaitMenu(t, when+":\n"+want, func(m trayhost.Menu) bool { return menuText(m) == want })
}

// trayMenu is the tray's whole menu for the test's two accounts, given
// the headline, each account's part and the state of Mark all read.
func trayMenu(headline, work, home string, markAll bool) string {
	mark := "Mark all read [-]\n"
	if markAll {
		mark = "Mark all read\n"
	}
	return headline + "\n" + work + home + "---\n" + mark + `Check now
Pause notifications
  For 1 hour
  Until tomorrow
Start at login [ ]
Add account…
Accounts…
Quit
`
}

const (
	workIdle = `work — no new mail
  Last checked … [-]
  Check now
  Mark read [-]
  Mark read on server [-]
  Pause
  Edit account…
`
	homeIdle = `home — no new mail
  Last checked … [-]
  Check now
  Mark read [-]
  Pause
  Edit account…
`
)

// workNew is the IMAP account's part of the menu with rows new mails.
func workNew(status string, rows ...string) string {
	return "work — " + status + "\n  " + strings.Join(rows, "\n  ") + `
  ---
  Last checked … [-]
  Check now
  Mark read
  Mark read on server
  Pause
  Edit account…
`
}

// TestTrayEndToEnd runs the real tray binary against a real Dovecot, one
// IMAP (IDLE) and one POP3 account, on a private session bus where the test
// is the tray host, and follows what a user sees: mail pushed in, mail read
// elsewhere, Mark all read, a restart, Check now.
func TestTrayEndToEnd(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	addr := testenv.PrivateBus(t, false)
	// The watcher comes first: fyne.io/systray then registers as soon as
	// it starts, and the tray's own HostAvailable check sees a host. A
	// watcher that appears later is caught only once fyne has subscribed
	// to NameOwnerChanged, which it does after its first attempt — a gap
	// this order does not have, at the first start or the restart.
	h, c := trayDesktop(t, addr)
	iu, ipw := d.AddUser(t)
	pu, ppw := d.AddUser(t)
	c.writeConfig(accountTOML("work", "imap", d.IMAPS, "tls", iu, passwordFile(t, ipw), d.CAFile) +
		accountTOML("home", "pop3", d.POP3S, "tls", pu, passwordFile(t, ppw), d.CAFile))

	start := time.Now()
	tray := startTray(t, c)
	item := h.WaitItem(t, tray.exited)
	idle := trayMenu("No new mail [-]", workIdle, homeIdle, false)
	waitMenu(t, item, "once both accounts are checked", idle)
	t.Logf("registered and checked both accounts in %v", time.Since(start).Round(time.Millisecond))
	p0 := item.WaitProps(t, "the checked accounts", func(p trayhost.Props) bool {
		return p.Tooltip == "work: no new mail\nhome: no new mail"
	})
	if p0.Title != "" || !p0.Icon.Valid() {
		t.Errorf("at start: title %q, icon %dx%d with %d bytes; want no title and an icon", p0.Title, p0.Icon.W, p0.Icon.H, len(p0.Icon.Pix))
	}

	// IDLE pushes new mail: no poll runs within the test's time.
	pushed := time.Now()
	d.Deliver(t, iu, testenv.Message("Ann <ann@example.com>", "Lunch?", "x"))
	d.Deliver(t, iu, testenv.Message("Bob <bob@example.com>", "Plans", "x"))
	p2 := item.WaitTitle(t, "2")
	t.Logf("title 2 after %v (IDLE push)", time.Since(pushed).Round(time.Millisecond))
	waitMenu(t, item, "after two deliveries",
		trayMenu("2 new mails [-]", workNew("2 new", "Bob — Plans", "Ann — Lunch?"), homeIdle, true))
	if want := "work: 2 new\nhome: no new mail"; p2.Tooltip != want {
		t.Errorf("tooltip %q, want %q", p2.Tooltip, want)
	}
	if !p2.Icon.Valid() || reflect.DeepEqual(p2.Icon, p0.Icon) {
		t.Error("the icon did not change for 2 new mails")
	}

	// Read elsewhere: the first mail is no longer new.
	d.Doveadm(t, "flags", "add", "-u", iu, `\Seen`, "mailbox", "INBOX", "uid", "1")
	p1 := item.WaitTitle(t, "1")
	m := waitMenu(t, item, "after reading one elsewhere",
		trayMenu("1 new mail [-]", workNew("1 new", "Bob — Plans"), homeIdle, true))

	item.Click(t, m, "Mark all read")
	pRead := item.WaitTitle(t, "")
	waitMenu(t, item, "after Mark all read", idle)
	if reflect.DeepEqual(pRead.Icon, p1.Icon) || !reflect.DeepEqual(pRead.Icon, p0.Icon) {
		t.Error("after Mark all read the icon is not the one of no new mail again")
	}
	// Mark all read is the tray's own: the server's flags stay.
	if f := d.Doveadm(t, "fetch", "-u", iu, "flags", "mailbox", "INBOX", "uid", "2"); strings.Contains(f, `\Seen`) {
		t.Errorf("Mark all read set \\Seen on the server: %s", f)
	}

	tray.stop(t)
	if strings.Contains(tray.stderr.String(), "no system tray found") {
		t.Error("the tray did not see the watcher that ran before it started")
	}
	store, err := seen.Open(c.state)
	if err != nil {
		t.Fatal(err)
	}
	status := d.Doveadm(t, "mailbox", "status", "-u", iu, "uidvalidity", "INBOX")
	_, validity, _ := strings.Cut(strings.TrimSpace(status), "uidvalidity=") // "INBOX uidvalidity=N"
	work := store.Account("work")
	if ids := slices.Sorted(maps.Keys(work.IDs)); !slices.Equal(ids, []string{"INBOX/" + validity + "/2"}) {
		t.Errorf("work's seen set after Mark all read = %q, want only the promoted mail INBOX/%s/2", ids, validity)
	} else if mid := work.IDs[ids[0]]; !strings.Contains(mid, "Plans@test.example") {
		t.Errorf("the promoted mail's Message-ID is %q, want Plans'", mid)
	}
	if home := store.Account("home"); !home.Baselined || len(home.IDs) != 0 {
		t.Errorf("home's seen set = %+v, want the baseline of an empty mailbox", home)
	}

	// A restart: the mail marked read is not new again.
	tray = startTray(t, c)
	item = h.WaitItem(t, tray.exited)
	waitMenu(t, item, "once both accounts are checked after the restart", idle)
	p := item.WaitProps(t, "the checked accounts", func(p trayhost.Props) bool {
		return p.Tooltip == "work: no new mail\nhome: no new mail"
	})
	if p.Title != "" {
		t.Errorf("after the restart the title is %q, want none", p.Title)
	}

	d.Deliver(t, iu, testenv.Message("Cy <cy@example.com>", "After the restart", "x"))
	item.WaitTitle(t, "1")
	m = waitMenu(t, item, "after a delivery to the restarted tray",
		trayMenu("1 new mail [-]", workNew("1 new", "Cy — After the restart"), homeIdle, true))

	// POP3 has no push: the account sees new mail at its next poll, or at
	// once on Check now (its poll interval is 5 minutes).
	d.Deliver(t, pu, testenv.Message("Dee <dee@example.com>", "pop news", "x"))
	item.Click(t, m.Under("home — no new mail"), "  Check now")
	p = item.WaitTitle(t, "2")
	waitMenu(t, item, "after Check now on the POP3 account", trayMenu("2 new mails [-]",
		workNew("1 new", "Cy — After the restart"), `home — 1 new
  Dee — pop news
  ---
  Last checked … [-]
  Check now
  Mark read
  Pause
  Edit account…
`, true))
	if want := "work: 1 new\nhome: 1 new"; p.Tooltip != want {
		t.Errorf("tooltip %q, want %q", p.Tooltip, want)
	}
	tray.stop(t)
}
