package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

// TestPasswordNeverLeaks follows a distinctive password through everything
// a user does with the binary — account add (and a wrong password for a
// second account), check -v --json, mark-read -v, account list, the tray
// with debug logs — against Dovecot and a real gnome-keyring on a private
// bus. The logins work, so the password did pass through each process; yet
// it appears in no output (debug logs included), in no file under the
// config and state dirs, on no running process's command line or
// environment, and not in the goroutine dump of the running tray. (The
// setup page's HTML after a test and a save is covered in setup/: see
// browser_test.go and server_test.go.)
func TestPasswordNeverLeaks(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	bus := testenv.PrivateBus(t, false)
	testenv.GnomeKeyring(t, bus)
	c := newCLIEnv(t)
	home := filepath.Dir(filepath.Dir(c.state)) // holds config, state and runtime dirs
	c.env = append(c.env, "DBUS_SESSION_BUS_ADDRESS="+bus, "XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"GORACE=atexit_sleep_ms=0")
	if err := os.MkdirAll(filepath.Join(home, "run"), 0o700); err != nil {
		t.Fatal(err)
	}

	pw := fmt.Sprintf("S3cret-Pw-%016x", rand.Uint64())
	wrong := fmt.Sprintf("Wr0ng-Pw-%016x", rand.Uint64())
	user, generated := d.AddUser(t)
	setDovecotPassword(t, d, user, generated, pw)
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "hello", "x"))
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "again", "x"))

	var outputs []string // every stdout and stderr, labelled
	leaks := func(where, text string) {
		t.Helper()
		for _, s := range []string{pw, wrong} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the password %q:\n%s", where, s, text)
			}
		}
	}
	// procFiles checks what another user of the machine could read of a
	// running child: its command line and environment.
	procFiles := func(what string, pid int) {
		t.Helper()
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			leaks(fmt.Sprintf("/proc/<%s>/%s", what, f), string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	run := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		out, errOut, code := c.run(stdin, args...)
		outputs = append(outputs, fmt.Sprintf("mailsneaker %s: stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errOut))
		return out, errOut, code
	}
	// add runs account add with the password on a pipe, so that the
	// process can be looked at while it waits for it.
	add := func(name, proto string, port int, password string, extra ...string) (string, string, int) {
		t.Helper()
		args := append([]string{"-v", "account", "add", "--name", name, "--protocol", proto, "--host", "127.0.0.1",
			"--port", fmt.Sprint(port), "--security", "tls", "--username", user, "--ca-file", d.CAFile, "--password-stdin"}, extra...)
		cmd := exec.Command(binary, args...)
		cmd.Env = c.env
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procFiles("account add", cmd.Process.Pid)
		io.WriteString(stdin, password+"\n")
		stdin.Close()
		code := 0
		if err := cmd.Wait(); err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatal(err)
			}
			code = ee.ExitCode()
		}
		outputs = append(outputs, fmt.Sprintf("mailsneaker %s: stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out.String(), errb.String()))
		return out.String(), errb.String(), code
	}

	if _, errOut, code := add("work", "imap", d.IMAPS, pw); code != 0 {
		t.Fatalf("account add work: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := add("pop", "pop3", d.POP3S, pw); code != 0 {
		t.Fatalf("account add pop: exit %d\n%s", code, errOut)
	}
	// A wrong password is refused (and not saved), then saved anyway.
	if _, errOut, code := add("bad", "imap", d.IMAPS, wrong); code != 1 || !strings.Contains(errOut, "login refused") {
		t.Fatalf("account add with a wrong password: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := add("bad", "imap", d.IMAPS, wrong, "--no-verify"); code != 0 {
		t.Fatalf("account add --no-verify: exit %d\n%s", code, errOut)
	}

	out, errOut, code := run("", "-v", "check", "--json")
	if code != 1 || !strings.Contains(out, `"name": "work"`) || !strings.Contains(out, "login refused") {
		t.Fatalf("check: exit %d, want 1 (the bad account)\n%s%s", code, out, errOut)
	}
	// The keychain's password worked: the IMAP account sees both mails.
	if !strings.Contains(out, `"new": 2`) {
		t.Fatalf("check did not log in with the stored password:\n%s", out)
	}
	if out, errOut, code := run("", "-v", "mark-read"); code != 1 || !strings.Contains(out, "marked 2 mails as read") {
		t.Fatalf("mark-read: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code := run("", "account", "list"); code != 0 || !strings.Contains(out, "work") {
		t.Fatalf("account list: exit %d\n%s", code, out)
	}

	// The tray, with debug logs, until every account has been checked:
	// then its command line, its environment and a goroutine dump.
	tray := exec.Command(binary, "-v")
	tray.Env = append(c.env, "GOTRACEBACK=all")
	stderr, err := tray.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var trayOut bytes.Buffer
	tray.Stdout = &trayOut
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	defer tray.Process.Kill()
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var trayLog strings.Builder
	checked := map[string]bool{}
	testenv.Eventually(t, 30*time.Second, func() bool {
		for !(checked["work"] && checked["pop"] && checked["bad"]) {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the tray exited:\n%s", trayLog.String())
				}
				trayLog.WriteString(l + "\n")
				switch {
				case strings.Contains(l, `msg="imap STATUS"`) && strings.Contains(l, "account=work"):
					checked["work"] = true
				case strings.Contains(l, `msg="pop3 checked"`) && strings.Contains(l, "account=pop"):
					checked["pop"] = true
				case strings.Contains(l, "login refused") && strings.Contains(l, "account=bad"):
					checked["bad"] = true
				}
			default:
				return false
			}
		}
		return true
	}, "the tray to check every account (%v):\n%s", checked, &trayLog)
	procFiles("tray", tray.Process.Pid)
	if err := tray.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		trayLog.WriteString(l + "\n")
	}
	tray.Wait()
	if d := trayLog.String(); !strings.Contains(d, "SIGQUIT") || !strings.Contains(d, "mailsneaker/poller.") {
		t.Fatalf("no goroutine dump after SIGQUIT:\n%s", trayLog.String())
	}
	outputs = append(outputs, "tray stdout:\n"+trayOut.String(), "tray stderr and goroutine dump:\n"+trayLog.String())

	for _, o := range outputs {
		leaks("output", o)
	}
	files := 0
	filepath.WalkDir(home, func(p string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("read %s: %v", p, err)
			return nil
		}
		files++
		leaks(p, string(b))
		return nil
	})
	if _, err := os.Stat(c.config); err != nil || files < 3 {
		t.Fatalf("looked at %d files (config: %v); want the config, the seen set and more", files, err)
	}
	t.Logf("password checked in %d outputs (with a %d-byte goroutine dump), %d files and /proc of 5 running processes",
		len(outputs), trayLog.Len(), files)
}

// setDovecotPassword replaces user's password in the Dovecot's passwd-file,
// which Dovecot reads again when it changes.
func setDovecotPassword(t *testing.T, d *testenv.Dovecot, user, from, to string) {
	t.Helper()
	p := filepath.Join(d.Dir, "users")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	old := user + ":{PLAIN}" + from + ":"
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("no line %q in %s", old, p)
	}
	b = bytes.Replace(b, []byte(old), []byte(user+":{PLAIN}"+to+":"), 1)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
