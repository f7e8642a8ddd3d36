//go:build unix

package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mailutils is a throwaway GNU Mailutils imap4d and pop3d on 127.0.0.1
// with their own config files, TLS certificate, users and Maildirs in a
// temp dir: a second server implementation beside Dovecot, with habits of
// its own (UIDVALIDITY from the clock, mail in new/ renumbered at every
// session, IDLE that reports nothing, X-UIDL headers written by pop3d).
type Mailutils struct {
	Server

	uid, gid int // the owner of the mail files: the users' uid and gid

	mu       sync.Mutex
	children []*muChild
	users    int
}

// muChild is one server process, run in the foreground in its own group.
type muChild struct {
	cmd    *exec.Cmd
	exited <-chan struct{}
}

// mailutilsDomain is the virtual domain of every user: log in as user@domain.
const mailutilsDomain = "example.test"

// StartMailutils starts imap4d and pop3d for the test and stops them in
// t.Cleanup. Each one has its own ports, so tests may run in parallel.
func StartMailutils(t testing.TB) *Mailutils {
	t.Helper()
	Need(t, "GNU Mailutils (apt-get install mailutils-imap4d mailutils-pop3d)", "imap4d", "pop3d", "openssl")
	dir, err := os.MkdirTemp("", "msmu")
	if err != nil {
		t.Fatal(err)
	}
	m := &Mailutils{Server: Server{Dir: dir}, uid: os.Getuid(), gid: os.Getgid()}
	t.Cleanup(func() {
		m.Stop(t)
		os.RemoveAll(dir)
	})
	if os.Getuid() == 0 {
		// Mail is not accessed as root: use the system's mail user.
		m.uid, m.gid = 8, 8
		if u, err := user.Lookup("mail"); err == nil {
			m.uid, _ = strconv.Atoi(u.Uid)
			m.gid, _ = strconv.Atoi(u.Gid)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"vdom", "home", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The servers write their pid files and locks after dropping privileges.
	for _, sub := range []string{"run", "locks"} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o1777); err != nil {
			t.Fatal(err)
		}
	}
	m.certify(t, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err := os.WriteFile(m.passwdFile(), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	startRetrying(t, "mailutils", "trying other ports", 0, func() error {
		m.usePorts(freePorts(t, 4))
		imapConf, pop3Conf := m.config()
		if err := os.WriteFile(filepath.Join(dir, "imap4d.conf"), []byte(imapConf), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pop3d.conf"), []byte(pop3Conf), 0o644); err != nil {
			t.Fatal(err)
		}
		return m.start()
	})
	return m
}

func (m *Mailutils) passwdFile() string { return filepath.Join(m.Dir, "vdom", mailutilsDomain) }

// config returns imap4d.conf and pop3d.conf.
func (m *Mailutils) config() (imap4d, pop3d string) {
	D := m.Dir
	common := fmt.Sprintf(`logging { syslog no; severity info; };
auth { authorization virtdomain; authentication generic; };
virtdomain { passwd-dir %[1]q; };
mailbox { mailbox-type maildir; };
tls-file-checks { key-file none; cert-file none; ca-file none; };
tls { ssl-certificate-file %[2]q; ssl-key-file %[3]q; };
foreground yes;
mode daemon;
tcp-wrappers { enable no; };
`, filepath.Join(D, "vdom"), filepath.Join(D, "cert.pem"), filepath.Join(D, "key.pem"))
	imap4d = common + fmt.Sprintf(`pidfile %q;
server 127.0.0.1:%d { tls-mode stls; };
server 127.0.0.1:%d { tls-mode connection; };
`, filepath.Join(D, "run", "imap4d.pid"), m.IMAP, m.IMAPS)
	pop3d = common + fmt.Sprintf(`pidfile %q;
login-delay 0;
mandatory-locking { enable yes; lock-directory %q; };
server 127.0.0.1:%d { tls-mode stls; };
server 127.0.0.1:%d { tls-mode connection; };
`, filepath.Join(D, "run", "pop3d.pid"), filepath.Join(D, "locks"), m.POP3, m.POP3S)
	return imap4d, pop3d
}

// Start restarts stopped servers on the same ports.
func (m *Mailutils) Start(t testing.TB) {
	t.Helper()
	startRetrying(t, "mailutils", "trying again", 100*time.Millisecond, m.start)
}

// start starts imap4d and pop3d and waits until each port greets as the
// server expected there. Both are killed if either fails.
func (m *Mailutils) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.children != nil {
		return nil
	}
	var children []*muChild
	fail := func(err error) error {
		for _, c := range children {
			c.kill()
		}
		return err
	}
	for _, srv := range []struct {
		prog     string
		ports    [2]int
		greeting string
	}{
		{prog: "imap4d", ports: [2]int{m.IMAP, m.IMAPS}, greeting: "* OK"},
		{prog: "pop3d", ports: [2]int{m.POP3, m.POP3S}, greeting: "+OK"},
	} {
		logPath := filepath.Join(m.Dir, "log", srv.prog+".log")
		cmd := exec.Command(srv.prog, "--config-file="+filepath.Join(m.Dir, srv.prog+".conf"), "--foreground")
		offset, exited, err := spawn(cmd, logPath)
		if err != nil {
			return fail(err)
		}
		c := &muChild{cmd: cmd, exited: exited}
		children = append(children, c)
		deadline := time.Now().Add(15 * time.Second)
		// A port it cannot bind does not stop the server: it logs so
		// before "started" and serves the other one, while whoever holds
		// the port would answer our probe.
		for {
			said := string(logSince(logPath, offset))
			if strings.Contains(said, "Address already in use") {
				return fail(fmt.Errorf("%w: %s could not bind its ports:\n%s", errPortTaken, srv.prog, tail([]byte(said), 10)))
			}
			if strings.Contains(said, ") started") {
				break
			}
			select {
			case <-c.exited:
				return fail(fmt.Errorf("%s exited:\n%s", srv.prog, tail([]byte(said), 10)))
			default:
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("%s did not start in 15 s:\n%s", srv.prog, tail([]byte(said), 10)))
			}
			time.Sleep(20 * time.Millisecond) // polls the log; the deadline bounds it
		}
		for i, port := range srv.ports {
			for {
				err := m.probe(port, i == 1, srv.greeting)
				if err == nil {
					break
				}
				select {
				case <-c.exited:
					said := tail(logSince(logPath, offset), 10)
					if strings.Contains(said, "Address already in use") || strings.Contains(said, "cannot bind") {
						return fail(fmt.Errorf("%w: %s could not bind its ports:\n%s", errPortTaken, srv.prog, said))
					}
					return fail(fmt.Errorf("%s exited:\n%s", srv.prog, said))
				default:
				}
				if errors.Is(err, errPortTaken) || time.Now().After(deadline) {
					return fail(fmt.Errorf("%s on port %d: %w", srv.prog, port, err))
				}
				time.Sleep(20 * time.Millisecond) // polls the port; the deadline bounds it
			}
		}
	}
	m.children = children
	return nil
}

// probe connects to port and reads the greeting: nil if it starts with
// greeting (over TLS with our certificate when implicitTLS), an error
// wrapping errPortTaken if something else answers, another error if
// nothing listens yet.
func (m *Mailutils) probe(port int, implicitTLS bool, greeting string) error {
	ours := func(line string) bool { return strings.HasPrefix(line, greeting) }
	return probeGreeting(port, implicitTLS, m.TLSConfig(), ours, fmt.Sprintf("with %q", greeting))
}

// kill ends the process group of c and waits for its leader.
func (c *muChild) kill() { stopGroup(c.cmd.Process.Pid, c.exited) }

// Stop stops both servers and their session processes.
func (m *Mailutils) Stop(t testing.TB) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.children {
		c.kill()
	}
	m.children = nil
}

// AddUser creates a fresh user with an empty INBOX and returns the login
// name (user@example.test) and password.
func (m *Mailutils) AddUser(t testing.TB) (name, password string) {
	t.Helper()
	m.mu.Lock()
	m.users++
	n := m.users
	m.mu.Unlock()
	local := fmt.Sprintf("user%d", n)
	password = fmt.Sprintf("pw-%d-%d", n, rand.IntN(100000))
	// The password goes to openssl on stdin, never in argv.
	cmd := exec.Command("openssl", "passwd", "-6", "-stdin")
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl passwd: %v", err)
	}
	hash := strings.TrimSpace(string(out))
	home := filepath.Join(m.Dir, "home", local)
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	m.chown(t, home)
	m.AddFolder(t, local+"@"+mailutilsDomain, "INBOX")
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := os.OpenFile(m.passwdFile(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s:%s:%d:%d:%s:%s:/dev/null\n", local, hash, m.uid, m.gid, local, home); err != nil {
		t.Fatal(err)
	}
	return local + "@" + mailutilsDomain, password
}

// Maildir is the Maildir of user's folder (a login name from AddUser).
func (m *Mailutils) Maildir(user, folder string) string {
	local, _, _ := strings.Cut(user, "@")
	return filepath.Join(m.Dir, "home", local, folder)
}

// AddFolder creates an empty folder for user, as Mailutils itself does.
//
// The properties file names the format version from the start: a folder
// without one is upgraded by the first session, and a session that opened
// it before the upgrade writes the file back without the version when it
// ends, after which Mailutils ignores the flags in the file names (mail
// read meanwhile by another client is unread again). Maildirs made by an
// MTA meet that bug; these tests are about MailSneaker's count.
func (m *Mailutils) AddFolder(t testing.TB, user, folder string) {
	t.Helper()
	md := m.Maildir(user, folder)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		m.chown(t, filepath.Join(md, sub))
	}
	prop := filepath.Join(md, ".mu-prop")
	// UIDVALIDITY 1, not the clock's second: a test sees a change even
	// when the server takes a new one from the clock within that second.
	if err := os.WriteFile(prop, []byte("uid-validity: 1\nuidnext: 1\nversion: 3.15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.chown(t, prop)
	m.chown(t, md)
}

// WaitSessions waits until no client session is open on either server:
// a session rewrites the folder's properties file as it ends, which may
// be after the client has gone.
func (m *Mailutils) WaitSessions(t testing.TB) {
	t.Helper()
	m.mu.Lock()
	var leaders []int
	for _, c := range m.children {
		leaders = append(leaders, c.cmd.Process.Pid)
	}
	m.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := 0
		for _, pgid := range leaders {
			n += len(groupMembers(pgid)) - 1
		}
		if n <= 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailutils: %d sessions still open after 15 s", n)
		}
		time.Sleep(20 * time.Millisecond) // polls /proc; the deadline bounds it
	}
}

// groupMembers lists the live processes of process group pgid (Linux /proc;
// elsewhere nothing, so WaitSessions does not wait).
func groupMembers(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so read after the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (m *Mailutils) chown(t testing.TB, path string) {
	t.Helper()
	if os.Getuid() != 0 {
		return
	}
	if err := os.Lchown(path, m.uid, m.gid); err != nil {
		t.Fatal(err)
	}
}

// Deliver puts msg into user's INBOX as an MTA does.
func (m *Mailutils) Deliver(t testing.TB, user string, msg []byte) {
	t.Helper()
	m.DeliverTo(t, user, "INBOX", msg)
}

// DeliverTo puts msg into a folder of user as an MTA does: written into
// tmp/, then renamed into new/. Mailutils reads Maildir messages with LF
// line ends (as MTAs store them), so CRLF is turned into LF.
func (m *Mailutils) DeliverTo(t testing.TB, user, folder string, msg []byte) {
	t.Helper()
	md := m.Maildir(user, folder)
	name := fmt.Sprintf("%d.M%dP%d.mailsneaker-test", time.Now().Unix(), time.Now().Nanosecond(), os.Getpid())
	tmp := filepath.Join(md, "tmp", name)
	if err := os.WriteFile(tmp, bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	m.chown(t, tmp)
	if err := os.Rename(tmp, filepath.Join(md, "new", name)); err != nil {
		t.Fatal(err)
	}
}

// SetUIDValidity gives user's folder a new UIDVALIDITY, as the server does
// when it rebuilds its properties file (.mu-prop), keeping the UIDs. It
// first waits for open sessions to end (WaitSessions), which would write
// the old value back.
func (m *Mailutils) SetUIDValidity(t testing.TB, user, folder string, v uint32) {
	t.Helper()
	m.WaitSessions(t)
	p := filepath.Join(m.Maildir(user, folder), ".mu-prop")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("set UIDVALIDITY: %v (the folder was never opened?)", err)
	}
	var out []string
	found := false
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(line, "uid-validity:") {
			line, found = "uid-validity: "+strconv.FormatUint(uint64(v), 10), true
		}
		out = append(out, line)
	}
	if !found {
		t.Fatalf("set UIDVALIDITY: no uid-validity line in %s:\n%s", p, b)
	}
	if err := os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
