//go:build unix

package testenv

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
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
	Dir     string
	CAFile  string         // PEM of the self-signed server certificate (SAN 127.0.0.1, localhost)
	RootCAs *x509.CertPool // CAFile as a pool
	IMAP    int            // IMAP with STARTTLS
	IMAPS   int            // IMAP over implicit TLS
	POP3    int            // POP3 with STLS
	POP3S   int            // POP3 over implicit TLS

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	users  int
}

// StartDovecot starts a Dovecot for the test and stops it in t.Cleanup.
func StartDovecot(t testing.TB) *Dovecot {
	t.Helper()
	Need(t, "Dovecot", "dovecot", "doveadm")
	// Unix socket paths must stay short: not under t.TempDir's long names.
	dir, err := os.MkdirTemp("", "msdc")
	if err != nil {
		t.Fatal(err)
	}
	d := &Dovecot{Dir: dir}
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
	d.CAFile = filepath.Join(dir, "tls", "cert.pem")
	cert := SelfSigned(t, time.Now().Add(-time.Hour), time.Now().AddDate(10, 0, 0))
	if err := os.WriteFile(d.CAFile, cert.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	// Dovecot's config process reads the key as the user that starts it.
	if err := os.WriteFile(filepath.Join(dir, "tls", "key.pem"), cert.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	d.RootCAs = cert.Pool
	if err := os.WriteFile(filepath.Join(dir, "users"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 4)
	d.IMAP, d.IMAPS, d.POP3, d.POP3S = ports[0], ports[1], ports[2], ports[3]
	if err := os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(d.config()), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Start(t)
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
%[7]sssl = yes
ssl_cert = <%[1]s/tls/cert.pem
ssl_key = <%[1]s/tls/key.pem
auth_mechanisms = plain login
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
service imap-login {
  inet_listener imap {
    port = %[3]d
  }
  inet_listener imaps {
    port = %[4]d
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[5]d
  }
  inet_listener pop3s {
    port = %[6]d
    ssl = yes
  }
}
pop3_uidl_format = %%08Xu%%08Xv
`, D, d.IMAP, d.IMAP, d.IMAPS, d.POP3, d.POP3S, internal, mailUser)
}

// Start (re)starts the server on the same ports and waits until all four
// accept connections.
func (d *Dovecot) Start(t testing.TB) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		return
	}
	cmd := exec.Command("dovecot", "-F", "-c", filepath.Join(d.Dir, "dovecot.conf"))
	// A file, not a pipe: Wait would also wait for every child holding the pipe.
	out, err := os.OpenFile(filepath.Join(d.Dir, "log", "dovecot.stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for _, p := range []int{d.IMAP, d.IMAPS, d.POP3, d.POP3S} {
		for {
			c, err := net.DialTimeout("tcp", d.Addr(p), time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				stdout, _ := os.ReadFile(out.Name())
				log, _ := os.ReadFile(filepath.Join(d.Dir, "log", "dovecot.log"))
				t.Fatalf("dovecot exited: %s\n%s", tail(stdout, 10), tail(log, 10))
			default:
			}
			if time.Now().After(deadline) {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatalf("dovecot did not open port %d in 15 s", p)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	d.cmd = cmd
	d.exited = exited
}

// Stop stops the server and waits for every one of its processes to exit.
func (d *Dovecot) Stop(t testing.TB) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return
	}
	pid := d.cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(500 * time.Millisecond):
		// Dovecot lingers up to seconds for its clients; a test restart need not.
		syscall.Kill(-pid, syscall.SIGKILL)
		<-d.exited
	}
	// Children (imap, pop3, login processes) may outlive the master briefly.
	syscall.Kill(-pid, syscall.SIGKILL)
	d.cmd = nil
}

// Addr is 127.0.0.1:port.
func (d *Dovecot) Addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// TLSConfig trusts the server's certificate.
func (d *Dovecot) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: d.RootCAs, ServerName: "127.0.0.1"}
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

// Message builds a small RFC 5322 message.
func Message(from, subject, body string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: test@example.com\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%s@test.example>\r\n\r\n%s\r\n",
		from, subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano(), strings.ReplaceAll(subject, " ", "."), body))
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
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

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
