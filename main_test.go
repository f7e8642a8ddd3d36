package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

// binary is the mailsneaker binary built once for the tests: the CLI is a
// contract, so the tests run it as a user would, one process per command.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mailsneaker-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mailsneaker")
	args := []string{"build", "-o", binary, "."}
	if raceEnabled {
		args = []string{"build", "-race", "-o", binary, "."}
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cliEnv is a private XDG home for one test's runs of the binary.
type cliEnv struct {
	t      *testing.T
	bin    string // the binary to run; "" is binary
	config string // config.toml
	state  string
	env    []string
}

func newCLIEnv(t *testing.T) *cliEnv {
	dir := t.TempDir()
	c := &cliEnv{t: t,
		config: filepath.Join(dir, "config", "mailsneaker", "config.toml"),
		state:  filepath.Join(dir, "state", "mailsneaker"),
	}
	c.env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"), "HOME="+dir, "DBUS_SESSION_BUS_ADDRESS=",
		// A -race binary sleeps 1 s at exit by default.
		"GORACE=atexit_sleep_ms=0")
	if err := os.MkdirAll(filepath.Dir(c.config), 0o700); err != nil {
		t.Fatal(err)
	}
	return c
}

// startLines starts the binary with args in c's environment, and sends
// each line of its stderr on lines, which closes with its stderr. At the
// end of the test the process is killed, lines drained and the process
// reaped.
func (c *cliEnv) startLines(args ...string) (cmd *exec.Cmd, lines <-chan string) {
	c.t.Helper()
	cmd = exec.Command(binary, args...)
	cmd.Env = c.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	c.t.Cleanup(func() {
		cmd.Process.Kill()
		for range ch {
		}
		cmd.Wait()
	})
	return cmd, ch
}

// waitLine reads lines until one that match accepts, and returns it; it
// fails the test when the process exits or timeout passes first.
func waitLine(t *testing.T, lines <-chan string, timeout time.Duration, what string, match func(string) bool) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the tray exited while waiting for %s", what)
			}
			if match(l) {
				return l
			}
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// run runs the binary and returns stdout, stderr and the exit code.
func (c *cliEnv) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	bin := binary
	if c.bin != "" {
		bin = c.bin
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

type report struct {
	Total    int `json:"total"`
	Accounts []struct {
		Name     string `json:"name"`
		Protocol string `json:"protocol"`
		New      int    `json:"new"`
		Unread   *int   `json:"unread"`
		Error    string `json:"error"`
		Messages []struct {
			Folder, From, Subject, Date string
		} `json:"messages"`
	} `json:"accounts"`
}

// check runs `check --json` and returns the new count per account.
func (c *cliEnv) check(wantCode int) (report, map[string]int) {
	c.t.Helper()
	out, errOut, code := c.run("", "check", "--json")
	if code != wantCode {
		c.t.Fatalf("check exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, out, errOut)
	}
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		c.t.Fatalf("check --json: %v\n%s", err, out)
	}
	counts := map[string]int{}
	for _, a := range r.Accounts {
		counts[a.Name] = a.New
		if a.Error != "" {
			counts[a.Name] = -1
		}
	}
	return r, counts
}

func (c *cliEnv) writeConfig(body string) {
	c.t.Helper()
	if err := os.WriteFile(c.config, []byte(body), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// passwordFile stores a password for password_command (the keychain has its
// own tests; these run without a desktop).
func passwordFile(t *testing.T, pw string) string {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func accountTOML(name, protocol string, port int, security, user, pwFile, caFile string) string {
	return fmt.Sprintf(`
[[account]]
name = %q
protocol = %q
host = "127.0.0.1"
port = %d
security = %q
username = %q
ca_file = %q
password_command = "cat %s"
`, name, protocol, port, security, user, caFile, pwFile)
}

func TestCLIAgainstDovecot(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	c := newCLIEnv(t)
	iu, ipw := d.AddUser(t)
	pu, ppw := d.AddUser(t)
	ipf, ppf := passwordFile(t, ipw), passwordFile(t, ppw)
	c.writeConfig(accountTOML("imaps", "imap", d.IMAPS, "tls", iu, ipf, d.CAFile) +
		accountTOML("imap-starttls", "imap", d.IMAP, "starttls", iu, ipf, d.CAFile) +
		accountTOML("pop3s", "pop3", d.POP3S, "tls", pu, ppf, d.CAFile) +
		accountTOML("pop3-stls", "pop3", d.POP3, "starttls", pu, ppf, d.CAFile))

	// Mail already on the POP3 server at the first check is the baseline.
	d.Deliver(t, pu, testenv.Message("Old <old@example.com>", "already there", "x"))
	d.Deliver(t, iu, testenv.Message("Ann <ann@example.com>", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "x"))
	d.Deliver(t, iu, testenv.Message("Bob <bob@example.com>", "second", "x"))
	flagsBefore := d.Doveadm(t, "fetch", "-u", iu, "uid flags", "mailbox", "INBOX", "all")

	r, got := c.check(0)
	want := map[string]int{"imaps": 2, "imap-starttls": 2, "pop3s": 0, "pop3-stls": 0}
	assertCounts(t, "first check", got, want)
	if s := r.Accounts[0].Messages; len(s) != 2 || s[0].Subject != "second" || s[1].Subject != "Grüße" || s[1].From != "Ann" {
		t.Errorf("imap messages = %+v, want second then Grüße from Ann", s)
	}

	d.Deliver(t, pu, testenv.Message("Cy <cy@example.com>", "pop news", "x"))
	_, got = c.check(0)
	assertCounts(t, "after a POP3 delivery", got, map[string]int{"imaps": 2, "imap-starttls": 2, "pop3s": 1, "pop3-stls": 1})

	// Read elsewhere: the mail drops out of the IMAP count.
	d.Doveadm(t, "flags", "add", "-u", iu, `\Seen`, "mailbox", "INBOX", "uid", "1")
	_, got = c.check(0)
	assertCounts(t, "after reading one elsewhere", got, map[string]int{"imaps": 1, "imap-starttls": 1, "pop3s": 1, "pop3-stls": 1})

	out, errOut, code := c.run("", "mark-read")
	if code != 0 || !strings.Contains(out, "marked 4 mails as read") {
		t.Fatalf("mark-read: exit %d\n%s%s", code, out, errOut)
	}
	// A new process: still nothing new.
	_, got = c.check(0)
	assertCounts(t, "after mark-read", got, map[string]int{"imaps": 0, "imap-starttls": 0, "pop3s": 0, "pop3-stls": 0})

	d.Deliver(t, iu, testenv.Message("Dee <dee@example.com>", "after", "x"))
	d.Deliver(t, pu, testenv.Message("Eve <eve@example.com>", "after", "x"))
	_, got = c.check(0)
	assertCounts(t, "a new mail after mark-read", got, map[string]int{"imaps": 1, "imap-starttls": 1, "pop3s": 1, "pop3-stls": 1})

	// Nothing the checks did changed a flag (uid 1 was flagged by the test).
	flagsAfter := d.Doveadm(t, "fetch", "-u", iu, "uid flags", "mailbox", "INBOX", "uid", "1:2")
	if b, a := stripRecent(flagsBefore), stripRecent(flagsAfter); strings.Count(a, `\Seen`) != 1 || strings.Contains(b, `\Seen`) {
		t.Errorf("flags changed beyond the test's own \\Seen:\nbefore:\n%s\nafter:\n%s", b, a)
	}
	popFiles := maildirFiles(t, d.Maildir(pu))
	if len(popFiles) != 3 {
		t.Errorf("POP3 mailbox has %d messages, want the 3 delivered (nothing deleted)", len(popFiles))
	}
}

func TestCLIPOP3PrunesDeletedMail(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	c := newCLIEnv(t)
	pu, ppw := d.AddUser(t)
	c.writeConfig(accountTOML("pop", "pop3", d.POP3S, "tls", pu, passwordFile(t, ppw), d.CAFile))
	d.Deliver(t, pu, testenv.Message("A <a@example.com>", "one", "x"))
	d.Deliver(t, pu, testenv.Message("B <b@example.com>", "two", "x"))
	c.check(0)
	seenBefore := readState(t, c.state)
	files := maildirFiles(t, d.Maildir(pu))
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	_, got := c.check(0)
	assertCounts(t, "after a deletion", got, map[string]int{"pop": 0})
	seenAfter := readState(t, c.state)
	if len(seenAfter) >= len(seenBefore) {
		t.Errorf("state file did not shrink after a server-side delete: %d → %d bytes", len(seenBefore), len(seenAfter))
	}
}

func TestCLIErrors(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	c := newCLIEnv(t)
	iu, _ := d.AddUser(t)
	c.writeConfig(accountTOML("wrong-pw", "imap", d.IMAPS, "tls", iu, passwordFile(t, "nope"), d.CAFile) +
		accountTOML("no-ca", "imap", d.IMAPS, "tls", iu, passwordFile(t, "nope"), ""))
	r, _ := c.check(1)
	for _, a := range r.Accounts {
		switch a.Name {
		case "wrong-pw":
			if !strings.Contains(a.Error, "login refused") {
				t.Errorf("wrong password: error %q, want it to say the login was refused", a.Error)
			}
		case "no-ca":
			if !strings.Contains(a.Error, "certificate") {
				t.Errorf("untrusted certificate: error %q, want it to name the certificate", a.Error)
			}
		}
		if strings.Contains(a.Error, "nope") {
			t.Errorf("the password appears in the error: %q", a.Error)
		}
	}

	c.writeConfig("[[account]]\nname = \"x\"\nprotocol = \"imapx\"\nhost = \"h\"\nusername = \"u\"\n")
	_, errOut, code := c.run("", "check")
	if code != 2 || !strings.Contains(errOut, "config.toml:3") || !strings.Contains(errOut, "imapx") {
		t.Errorf("bad config: exit %d, stderr %q; want 2 and the file:line", code, errOut)
	}
}

func assertCounts(t *testing.T, when string, got, want map[string]int) {
	t.Helper()
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: %s has %d new (−1 = error), want %d (all: %v)", when, name, got[name], n, got)
		}
	}
}

func stripRecent(s string) string { return strings.ReplaceAll(s, `\Recent`, "") }

func maildirFiles(t *testing.T, md string) []string {
	t.Helper()
	var files []string
	for _, sub := range []string{"new", "cur"} {
		m, err := filepath.Glob(filepath.Join(md, sub, "*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

func readState(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "seen.db"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTrayWithoutHostAndSecondInstance: without a session bus the tray says
// what to install and runs on; a second one exits with a clear message; a
// signal ends the first cleanly.
func TestTrayWithoutHostAndSecondInstance(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t)
	c.env = append(c.env, "XDG_RUNTIME_DIR="+t.TempDir())
	first, lines := c.startLines()
	waitLine(t, lines, 20*time.Second, "the tray to say that there is no tray host", func(l string) bool {
		return strings.Contains(l, "no system tray found") && strings.Contains(l, "mailsneaker check")
	})
	_, errOut, code := c.run("")
	if code != 1 || !strings.Contains(errOut, "already running") {
		t.Errorf("second tray: exit %d, stderr %q; want 1 and 'already running'", code, errOut)
	}
	first.Process.Signal(syscall.SIGTERM)
	if err := first.Wait(); err != nil {
		t.Errorf("first tray after SIGTERM: %v", err)
	}
}

// TestCLIAccountCommands: account add verifies the login and stores the
// password in a real Secret Service (gnome-keyring on a private bus); check
// then logs in with it; remove deletes the keychain entry too.
func TestCLIAccountCommands(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	bus := testenv.PrivateBus(t, false)
	testenv.GnomeKeyring(t, bus)
	c := newCLIEnv(t)
	c.env = append(c.env, "DBUS_SESSION_BUS_ADDRESS="+bus)
	user, pw := d.AddUser(t)
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "hello", "x"))
	add := func(name, password string, extra ...string) (string, string, int) {
		args := append([]string{"account", "add", "--name", name, "--protocol", "imap", "--host", "127.0.0.1",
			"--port", fmt.Sprint(d.IMAP), "--security", "starttls", "--username", user,
			"--ca-file", d.CAFile, "--password-stdin"}, extra...)
		return c.run(password+"\n", args...)
	}

	if out, errOut, code := add("work", "wrong-password"); code != 1 || !strings.Contains(errOut, "login refused") || !strings.Contains(errOut, "not saved") {
		t.Fatalf("add with a wrong password: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(c.config); !os.IsNotExist(err) {
		t.Fatalf("a refused account was written to the config (stat: %v)", err)
	}
	if out, errOut, code := add("work", pw); code != 0 {
		t.Fatalf("add: exit %d\n%s%s", code, out, errOut)
	}
	cfg, err := os.ReadFile(c.config)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), pw) || !strings.Contains(string(cfg), `name = "work"`) {
		t.Fatalf("config after add:\n%s", cfg)
	}
	out, _, code := c.run("", "account", "list")
	if code != 0 || !strings.Contains(out, "work\timap\t"+user+"@127.0.0.1:") {
		t.Errorf("account list: exit %d\n%s", code, out)
	}
	// check reads the password from the keychain.
	_, got := c.check(0)
	assertCounts(t, "check with the keychain's password", got, map[string]int{"work": 1})

	if _, errOut, code := add("work", pw); code != 2 || !strings.Contains(errOut, "exists already") {
		t.Errorf("adding a duplicate: exit %d, %q", code, errOut)
	}
	if out, errOut, code := c.run("", "account", "remove", "work"); code != 0 || errOut != "" {
		t.Fatalf("remove: exit %d\n%s%s", code, out, errOut)
	}
	// The keychain entry is gone: a re-added account without a password
	// (--no-verify, then check) reports exactly that.
	c.writeConfig(fmt.Sprintf("[[account]]\nname = \"work\"\nprotocol = \"imap\"\nhost = \"127.0.0.1\"\nport = %d\nusername = %q\nca_file = %q\n", d.IMAPS, user, d.CAFile))
	r, _ := c.check(1)
	if e := r.Accounts[0].Error; !strings.Contains(e, "no password stored") {
		t.Errorf("after remove, the keychain still answers: error %q", e)
	}
}

// TestTrayFollowsConfigEdits: an account added to config.toml while the
// tray runs is watched without a restart; a broken edit is reported and the
// tray runs on.
func TestTrayFollowsConfigEdits(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t)
	c.env = append(c.env, "XDG_RUNTIME_DIR="+t.TempDir())
	pw := passwordFile(t, "x")
	// Nothing listens on port 1: the accounts fail, which is fine here.
	c.writeConfig(accountTOML("first", "pop3", 1, "tls", "u", pw, ""))
	_, lines := c.startLines("-v")
	waitLine(t, lines, 30*time.Second, "the first account's check", func(l string) bool {
		return strings.Contains(l, "account check failed") && strings.Contains(l, "account=first")
	})
	c.writeConfig("this is = = not toml\n")
	waitLine(t, lines, 30*time.Second, "the broken config reported", func(l string) bool { return strings.Contains(l, "cannot be used") })
	c.writeConfig(accountTOML("first", "pop3", 1, "tls", "u", pw, "") + accountTOML("second", "imap", 1, "tls", "u", pw, ""))
	waitLine(t, lines, 30*time.Second, "the new account watched", func(l string) bool {
		return strings.Contains(l, "watching account") && strings.Contains(l, "account=second")
	})
	waitLine(t, lines, 30*time.Second, "the new account checked", func(l string) bool {
		return strings.Contains(l, "account check failed") && strings.Contains(l, "account=second")
	})
}
