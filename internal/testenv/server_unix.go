//go:build unix

package testenv

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// certify writes a fresh self-signed certificate (for 127.0.0.1, ::1 and
// localhost; valid for ten years) to certFile, its key to keyFile (0600),
// and makes it the one to trust (CAFile, RootCAs).
func (s *Server) certify(t testing.TB, certFile, keyFile string) {
	t.Helper()
	cert := SelfSigned(t, time.Now().Add(-time.Hour), time.Now().AddDate(10, 0, 0))
	if err := os.WriteFile(certFile, cert.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, cert.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s.CAFile, s.RootCAs = certFile, cert.Pool
}

// usePorts takes IMAP, IMAPS, POP3 and POP3S from ports, in that order.
func (s *Server) usePorts(ports []int) {
	s.IMAP, s.IMAPS, s.POP3, s.POP3S = ports[0], ports[1], ports[2], ports[3]
}

// startRetrying runs try until it succeeds, at most startAttempts times,
// while it fails because a port was taken (errPortTaken); any other
// failure, or the last, fails the test. name is the server's name and
// next what the next attempt does differently (for the log); pause is
// the back-off between attempts.
func startRetrying(t testing.TB, name, next string, pause time.Duration, try func() error) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil {
			return
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			t.Fatalf("start %s (attempt %d): %v", name, attempt, err)
		}
		t.Logf("start %s (attempt %d): %v; %s", name, attempt, err, next)
		if pause > 0 {
			time.Sleep(pause) // a back-off between attempts, not synchronisation
		}
	}
}

// probeGreeting connects to port on 127.0.0.1 and reads the greeting. It
// returns nil if ours accepts the greeting line (read over TLS with conf
// when implicitTLS), an error wrapping errPortTaken if something else
// answers (want says what was expected), and another error if nothing
// listens yet.
func probeGreeting(port int, implicitTLS bool, conf *tls.Config, ours func(line string) bool, want string) error {
	c, err := net.DialTimeout("tcp", loopback(port), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if implicitTLS {
		tc := tls.Client(c, conf)
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("%w: port %d: TLS handshake: %v", errPortTaken, port, err)
		}
		c = tc
	}
	line, err := bufio.NewReader(io.LimitReader(c, 4096)).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%w: port %d: no greeting: %v", errPortTaken, port, err)
	}
	if !ours(line) {
		return fmt.Errorf("%w: port %d greets %.80q, not %s", errPortTaken, port, line, want)
	}
	return nil
}

// stopGroup ends the process group led by pid, whose exit closes exited:
// SIGTERM to every process at once (the leader alone would stop its
// children one by one), SIGKILL after 2 s, and SIGKILL to the group once
// the leader is gone, for children (sessions, logins) that outlive it.
func stopGroup(pid int, exited <-chan struct{}) {
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
	syscall.Kill(-pid, syscall.SIGKILL)
}

// spawn starts cmd in a process group of its own, its output appended to
// logPath: a file, not a pipe, for Wait would also wait for every child
// holding the pipe. offset is the log's length before the start, where
// what this start-up logs begins; exited closes when cmd has exited.
func spawn(cmd *exec.Cmd, logPath string) (offset int64, exited <-chan struct{}, err error) {
	offset = fileSize(logPath)
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	return offset, done, nil
}

// fileSize is the size of the file at path, 0 when there is none.
func fileSize(path string) int64 {
	if fi, err := os.Stat(path); err == nil {
		return fi.Size()
	}
	return 0
}

// logSince is what the log at path holds from offset on (a spawn's).
func logSince(path string, offset int64) []byte {
	b, _ := os.ReadFile(path)
	return b[min(offset, int64(len(b))):]
}
