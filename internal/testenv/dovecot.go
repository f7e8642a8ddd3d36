//go:build unix

package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Dovecot is a throwaway Dovecot (IMAP + POP3) on 127.0.0.1 with its own
// config, TLS certificate, users and Maildirs in a temp dir.
type Dovecot struct {
	Server

	greeting string // login_greeting: tells our server from whatever else answers on a port
	extra    string // appended to dovecot.conf (StartDovecotOAuth)

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited <-chan struct{}
	users  int
}

// startAttempts bounds the start-ups StartDovecot and Start try: a port
// picked free can be taken before Dovecot binds it.
const startAttempts = 5

// errPortTaken is a start-up that failed because another process holds
// one of the ports; another attempt (on other ports, at first start) can
// succeed.
var errPortTaken = errors.New("port taken")

// StartDovecot starts a Dovecot for the test and stops it in t.Cleanup.
// Each one has its own ports, so tests that start their own may run in
// parallel.
func StartDovecot(t testing.TB) *Dovecot {
	t.Helper()
	return startDovecot(t, freePorts)
}

// startDovecot is StartDovecot with the port picker as a parameter, so a
// test can hand it a taken port.
func startDovecot(t testing.TB, pickPorts func(t testing.TB, n int) []int, setup ...func(d *Dovecot)) *Dovecot {
	t.Helper()
	Need(t, "Dovecot", "dovecot", "doveadm")
	// Unix socket paths must stay short: not under t.TempDir's long names.
	dir, err := os.MkdirTemp("", "msdc")
	if err != nil {
		t.Fatal(err)
	}
	d := &Dovecot{Server: Server{Dir: dir}, greeting: "mailsneaker-test-" + strconv.FormatUint(rand.Uint64(), 36)}
	t.Cleanup(func() {
		d.Stop(t)
		os.RemoveAll(dir)
	})
	// Dovecot's login and mail processes run as other users.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"run", "state", "log", "tls", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Dovecot's config process reads the key as the user that starts it.
	d.certify(t, filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem"))
	if err := os.WriteFile(filepath.Join(dir, "users"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(d)
	}
	startRetrying(t, "dovecot", "trying other ports", 0, func() error {
		d.usePorts(pickPorts(t, 4))
		if err := os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(d.config()), 0o644); err != nil {
			t.Fatal(err)
		}
		return d.start()
	})
	return d
}

func (d *Dovecot) config() string {
	mailUser, internal := "uid=nobody gid=nogroup", ""
	if os.Getuid() != 0 {
		// Unprivileged: everything runs as the current user.
		u, _ := user.Current()
		name := "nobody"
		if u != nil {
			name = u.Username
		}
		mailUser = fmt.Sprintf("uid=%d gid=%d", os.Getuid(), os.Getgid())
		internal = fmt.Sprintf("default_internal_user = %s\ndefault_login_user = %s\n", name, name)
	}
	D := d.Dir
	return fmt.Sprintf(`protocols = imap pop3
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = msdc-%[2]d
log_path = %[1]s/log/dovecot.log
login_greeting = %[9]s
%[7]sssl = yes
ssl_cert = <%[1]s/tls/cert.pem
ssl_key = <%[1]s/tls/key.pem
auth_mechanisms = plain login
# A refused login answers at once, not after Dovecot's 2 s brute-force delay.
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/users
  default_fields = %[8]s home=%[1]s/mail/%%u
}
mail_location = maildir:~/Maildir
# Login processes ready at start-up: the first greeting needs no spawn.
service imap-login {
  process_min_avail = 1
  inet_listener imap {
    port = %[3]d
  }
  inet_listener imaps {
    port = %[4]d
    ssl = yes
  }
}
service pop3-login {
  process_min_avail = 1
  inet_listener pop3 {
    port = %[5]d
  }
  inet_listener pop3s {
    port = %[6]d
    ssl = yes
  }
}
pop3_uidl_format = %%08Xu%%08Xv
`, D, d.IMAP, d.IMAP, d.IMAPS, d.POP3, d.POP3S, internal, mailUser, d.greeting) + d.extra
}

// Start restarts a stopped server on the same ports and waits until our
// Dovecot answers on all four. A port still held (say, by a login process
// of the old server that has not exited yet) is retried a few times.
func (d *Dovecot) Start(t testing.TB) {
	t.Helper()
	startRetrying(t, "dovecot", "trying again", 100*time.Millisecond, d.start)
}

// start starts the server and waits until each port answers with our
// greeting. It returns an error wrapping errPortTaken when Dovecot could not
// bind a port or something else answers on one.
func (d *Dovecot) start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		return nil
	}
	stdout, logFile := filepath.Join(d.Dir, "log", "dovecot.stdout"), filepath.Join(d.Dir, "log", "dovecot.log")
	logOffset := fileSize(logFile) // only what this start-up logs tells about it
	cmd := exec.Command("dovecot", "-F", "-c", filepath.Join(d.Dir, "dovecot.conf"))
	outOffset, exited, err := spawn(cmd, stdout)
	if err != nil {
		return err
	}
	kill := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, p := range []struct {
		port        int
		implicitTLS bool
	}{{d.IMAP, false}, {d.IMAPS, true}, {d.POP3, false}, {d.POP3S, true}} {
		for {
			err := d.probe(p.port, p.implicitTLS)
			if err == nil {
				break
			}
			if errors.Is(err, errPortTaken) {
				// A Dovecot that dies (say, on a port it could not bind) resets
				// the connections on the ports it did bind: then its log says why.
				select {
				case <-exited:
				case <-time.After(time.Second):
					kill()
					return err
				}
			}
			select {
			case <-exited:
			default:
				if time.Now().After(deadline) {
					kill()
					return fmt.Errorf("dovecot did not answer on port %d in 15 s: %v", p.port, err)
				}
				time.Sleep(20 * time.Millisecond) // polls the port; the deadline bounds it
				continue
			}
			all := tail(logSince(stdout, outOffset), 10) + "\n" + tail(logSince(logFile, logOffset), 10)
			if strings.Contains(all, "Address already in use") {
				return fmt.Errorf("%w: dovecot could not bind its ports:\n%s", errPortTaken, all)
			}
			return fmt.Errorf("dovecot exited:\n%s", all)
		}
	}
	d.cmd = cmd
	d.exited = exited
	return nil
}

// probe connects to port and reads the greeting. It returns nil if it is
// our Dovecot's (over TLS with our certificate when implicitTLS), an error
// wrapping errPortTaken if something else answers, and another error if
// nothing listens yet.
func (d *Dovecot) probe(port int, implicitTLS bool) error {
	ours := func(line string) bool { return strings.Contains(line, d.greeting) }
	return probeGreeting(port, implicitTLS, d.TLSConfig(), ours, "with our login_greeting")
}

// Stop stops the server and waits for every one of its processes to exit.
func (d *Dovecot) Stop(t testing.TB) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return
	}
	// SIGTERM to every process at once, as the master sends its children at
	// shutdown (imap processes say BYE): the master alone would take a
	// second to stop them one by one, a test restart need not.
	stopGroup(d.cmd.Process.Pid, d.exited)
	d.cmd = nil
}

// AddUser creates a fresh user with an empty Maildir and returns its name and
// password. Every test gets its own users, so tests never share a mailbox.
func (d *Dovecot) AddUser(t testing.TB) (name, password string) {
	t.Helper()
	d.mu.Lock()
	d.users++
	n := d.users
	d.mu.Unlock()
	name = fmt.Sprintf("user%d", n)
	password = fmt.Sprintf("pw-%d-%d", n, time.Now().UnixNano()%100000)
	md := filepath.Join(d.Dir, "mail", name, "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if os.Getuid() == 0 {
		// Dovecot will not access mail as root.
		filepath.Walk(filepath.Join(d.Dir, "mail", name), func(p string, _ os.FileInfo, _ error) error {
			return os.Lchown(p, 65534, 65534)
		})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(d.Dir, "users"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s:{PLAIN}%s::::::\n", name, password); err != nil {
		t.Fatal(err)
	}
	return name, password
}

// Maildir is the path of user's Maildir.
func (d *Dovecot) Maildir(user string) string {
	return filepath.Join(d.Dir, "mail", user, "Maildir")
}

// Deliver saves msg (RFC 5322) into user's INBOX through Dovecot itself.
func (d *Dovecot) Deliver(t testing.TB, user string, msg []byte) {
	t.Helper()
	cmd := exec.Command("doveadm", "-c", filepath.Join(d.Dir, "dovecot.conf"), "save", "-u", user)
	cmd.Stdin = bytes.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("doveadm save -u %s: %v\n%s", user, err, out)
	}
}

// Doveadm runs a doveadm command against this server and returns its output.
func (d *Dovecot) Doveadm(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("doveadm", append([]string{"-c", filepath.Join(d.Dir, "dovecot.conf")}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("doveadm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// IMAPSessions lists the pids of user's IMAP sessions that the server
// holds (doveadm who): one per connection of a client.
func (d *Dovecot) IMAPSessions(t testing.TB, user string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(d.Doveadm(t, "who", "-1", user), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == user && f[1] == "imap" {
			out = append(out, f[2])
		}
	}
	return out
}

// Message builds a small RFC 5322 message.
func Message(from, subject, body string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: test@example.com\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%s@test.example>\r\n\r\n%s\r\n",
		from, subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano(), strings.ReplaceAll(subject, " ", "."), body))
}

// freePorts picks n distinct ports that are free now. It picks them below
// the kernel's ephemeral port range where it can read it: an outgoing
// connection (of a test running in parallel) is never given such a port,
// so only another listener can take one before Dovecot binds it (the start
// then retries on other ports), and a restart finds its ports free.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	lo := ephemeralLow()
	var ports []int
	for tries := 0; len(ports) < n && lo > 11000 && tries < 1000; tries++ {
		p := 10000 + rand.IntN(lo-10000)
		if slices.Contains(ports, p) {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		ports = append(ports, p)
	}
	if len(ports) == n {
		return ports
	}
	ports = ports[:0]
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// ephemeralLow is the first port of Linux's ephemeral range, or 0.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	lo, _ := strconv.Atoi(f[0])
	return lo
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
