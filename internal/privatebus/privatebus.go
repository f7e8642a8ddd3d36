//go:build unix

// Package privatebus starts a private D-Bus session bus (a dbus-daemon of
// our own) for the tests and the benchmarks, so that they never talk to
// the developer's desktop session and decide which services exist. It is
// the one place that knows the bus config and how to start and stop the
// daemon.
package privatebus

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// NoActivation is a session bus config that auto-starts no service: no
// notification daemon, keyring or tray host appears by itself.
const NoActivation = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// addressTimeout bounds the wait for the daemon to print its address.
const addressTimeout = 10 * time.Second

// Bus is a running dbus-daemon.
type Bus struct {
	Addr string // for DBUS_SESSION_BUS_ADDRESS
	cmd  *exec.Cmd
}

// Start starts a dbus-daemon. With activation false it runs NoActivation
// (written into dir); with activation true it runs the system's session
// config, which auto-starts the services installed on this machine. Stop it
// with Stop.
func Start(dir string, activation bool) (*Bus, error) {
	cfg := "--session"
	if !activation {
		p := filepath.Join(dir, "bus.conf")
		if err := os.WriteFile(p, []byte(NoActivation), 0o644); err != nil {
			return nil, err
		}
		cfg = "--config-file=" + p
	}
	cmd := exec.Command("dbus-daemon", cfg, "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// The bus's activated services join its process group, so Stop ends them too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dbus-daemon: %w", err)
	}
	b := &Bus{cmd: cmd}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case b.Addr = <-line:
	case <-time.After(addressTimeout):
	}
	if b.Addr == "" {
		b.Stop()
		return nil, errors.New("dbus-daemon printed no address")
	}
	return b, nil
}

// Stop kills the daemon and every service it started, and waits for the
// daemon to exit.
func (b *Bus) Stop() {
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	b.cmd.Wait()
}
