//go:build linux

package main

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// mailUser is one line of the Dovecot passwd-file; uid 0 means nobody.
type mailUser struct {
	name, password string
	uid            int
}

// server is the Dovecot that scripts/dovecot-start.sh started for the run.
type server struct {
	repo, dir                string
	imap, imaps, pop3, pop3s int
	caFile                   string
	roots                    *x509.CertPool
	pid                      int
}

// startServer writes the users file and starts Dovecot in dir on ports
// base..base+3.
func startServer(repo, dir string, base int, users []mailUser) (*server, error) {
	var b strings.Builder
	for _, u := range users {
		if u.uid > 0 {
			fmt.Fprintf(&b, "%s:{PLAIN}%s:%d:65534::::\n", u.name, u.password, u.uid)
		} else {
			fmt.Fprintf(&b, "%s:{PLAIN}%s::::::\n", u.name, u.password)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	out, err := exec.Command(filepath.Join(repo, "scripts", "dovecot-start.sh"), dir, strconv.Itoa(base)).Output()
	if err != nil {
		return nil, fmt.Errorf("dovecot-start.sh: %w: %s", err, stderrOf(err))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, fmt.Errorf("dovecot-start.sh printed %q", out)
	}
	s := &server{repo: repo, dir: dir, imap: base, imaps: base + 1, pop3: base + 2, pop3s: base + 3,
		caFile: filepath.Join(dir, "tls", "cert.pem"), pid: pid}
	pem, err := os.ReadFile(s.caFile)
	if err != nil {
		s.stop()
		return nil, err
	}
	s.roots = x509.NewCertPool()
	s.roots.AppendCertsFromPEM(pem)
	return s, nil
}

// stop ends the Dovecot master (by its PID), which stops its children.
func (s *server) stop() {
	if s.pid <= 0 {
		return
	}
	syscall.Kill(s.pid, syscall.SIGTERM)
	for range 100 {
		if syscall.Kill(s.pid, 0) != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if syscall.Kill(s.pid, 0) == nil {
		syscall.Kill(s.pid, syscall.SIGKILL)
	}
	s.pid = 0
}

func (s *server) conf() string { return filepath.Join(s.dir, "dovecot.conf") }

// doveadm runs doveadm against this server.
func (s *server) doveadm(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("doveadm", append([]string{"-c", s.conf()}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("doveadm %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// deliver saves msg into folder of user through Dovecot (as a delivery would).
func (s *server) deliver(user, folder string, msg []byte) error {
	_, err := s.doveadm(msg, "save", "-u", user, "-m", folder)
	return err
}

func (s *server) maildir(user, folder string) string {
	md := filepath.Join(s.dir, "mail", user, "Maildir")
	if folder != "INBOX" {
		md = filepath.Join(md, "."+folder)
	}
	return md
}

// fill writes n messages, unseen of them spread evenly, straight into the
// Maildir of user's folder, then lets Dovecot index them.
func (s *server) fill(user, folder string, n, unseen int) error {
	out, err := exec.Command("python3", filepath.Join(s.repo, "scripts", "gen-mail.py"),
		s.maildir(user, folder), strconv.Itoa(n), "--unseen", strconv.Itoa(unseen), "--spread").CombinedOutput()
	if err != nil {
		return fmt.Errorf("gen-mail.py: %w: %s", err, out)
	}
	_, err = s.doveadm(nil, "mailbox", "status", "-u", user, "messages", folder)
	return err
}

// logHas reports the lines of Dovecot's log that contain what.
func (s *server) logHas(what string) []string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log", "dovecot.log"))
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, what) {
			lines = append(lines, l)
		}
	}
	return lines
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// message is a small RFC 5322 mail with a unique Message-ID.
func message(subject string) []byte {
	now := time.Now()
	return fmt.Appendf(nil, "From: Bench <bench@example.org>\r\nTo: user@example.org\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.bench@example.org>\r\n\r\nbench\r\n",
		subject, now.Format(time.RFC1123Z), now.UnixNano())
}
