//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/privatebus"
)

// buildBinaries builds mailsneaker once as a release would (CGO off), with
// and without symbols, and returns the unstripped path and both sizes.
func buildBinaries(repo, dir string) (bin string, size, stripped int64, err error) {
	bin = filepath.Join(dir, "mailsneaker")
	strippedBin := filepath.Join(dir, "mailsneaker-stripped")
	for _, b := range []struct {
		out   string
		flags []string
	}{{bin, nil}, {strippedBin, []string{"-ldflags=-s -w"}}} {
		cmd := exec.Command("go", append(append([]string{"build", "-trimpath"}, b.flags...), "-o", b.out, ".")...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", 0, 0, fmt.Errorf("go build: %w: %s", err, out)
		}
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return "", 0, 0, err
	}
	fs, err := os.Stat(strippedBin)
	if err != nil {
		return "", 0, 0, err
	}
	return bin, fi.Size(), fs.Size(), nil
}

// home is a private XDG config and state dir with a config.toml.
type home struct{ dir string }

func newHome(s *server, dir string, accts []accounts.Account, users map[string]mailUser) (home, error) {
	h := home{dir: dir}
	var b strings.Builder
	b.WriteString("[general]\nnotify = true\n")
	for _, a := range accts {
		fmt.Fprintf(&b, "\n[[account]]\nname = %q\nprotocol = %q\nhost = %q\nport = %d\nsecurity = %q\nusername = %q\n",
			a.Name, a.Protocol, a.Host, a.Port, a.Security, a.Username)
		if a.Protocol == accounts.IMAP {
			fmt.Fprintf(&b, "folders = [%s]\nmax_connections = %d\n", quoteList(a.Folders), a.MaxConnections)
		}
		fmt.Fprintf(&b, "ca_file = %q\npassword_command = %q\n", s.caFile, "printf '%s\\n' "+users[a.Name].password)
	}
	cfg := filepath.Join(dir, "config", "mailsneaker")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		return h, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		return h, err
	}
	return h, os.WriteFile(filepath.Join(cfg, "config.toml"), []byte(b.String()), 0o600)
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

// env is a minimal environment: no session bus unless given, no keychain.
func (h home) env(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h.dir,
		"XDG_CONFIG_HOME=" + filepath.Join(h.dir, "config"),
		"XDG_STATE_HOME=" + filepath.Join(h.dir, "state"),
	}, extra...)
}

// timeRun runs bin with args and returns its wall time.
func (h home) timeRun(ctx context.Context, bin string, args ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = h.env()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return d, nil
}

// cliResult is P4 for one protocol and size.
type cliResult struct {
	proto accounts.Protocol
	size  int
	first time.Duration // the baseline run
	wall  time.Duration // median of the steady-state runs
	floor time.Duration // the same on the wire by a bare client (P3's floor for POP3)
}

// benchCLI runs P4: `mailsneaker check --json` in a fresh process.
func benchCLI(ctx context.Context, s *server, bin, dir string, proto accounts.Protocol, n, runs int) (cliResult, error) {
	r := cliResult{proto: proto, size: n}
	u := sizeUser(n)
	h, err := newHome(s, dir, []accounts.Account{s.account(proto, accounts.TLS, u)}, map[string]mailUser{u.name: u})
	if err != nil {
		return r, err
	}
	if r.first, err = h.timeRun(ctx, bin, "check", "--json"); err != nil {
		return r, err
	}
	m := &meter{}
	var walls, floors []time.Duration
	for range runs {
		d, err := h.timeRun(ctx, bin, "check", "--json")
		if err != nil {
			return r, err
		}
		walls = append(walls, d)
		start := time.Now()
		if proto == accounts.POP3 {
			_, err = s.pop3Floor(ctx, m, u.name, u.password)
		} else {
			err = s.imapSession(ctx, m, u.name, u.password, imapStatus("INBOX"))
		}
		if err != nil {
			return r, err
		}
		floors = append(floors, time.Since(start))
	}
	r.wall, r.floor = median(walls), median(floors)
	return r, nil
}

// processStart is the wall time of `mailsneaker -version`: exec, runtime
// start and exit.
func processStart(ctx context.Context, bin, dir string, runs int) (time.Duration, error) {
	h := home{dir: dir}
	var ds []time.Duration
	for range runs {
		d, err := h.timeRun(ctx, bin, "-version")
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	return median(ds), nil
}

// trayResult is P5.
type trayResult struct {
	accounts                 int
	idle                     time.Duration
	rss, hwm                 int64 // KiB
	cpu                      time.Duration
	wakeMain, wakeAll        int64
	threads, sockets         int
	binSize, binSizeStripped int64
}

// benchTray runs P5: the tray with accts on a private session bus with no
// tray host, idle for d.
func benchTray(ctx context.Context, s *server, bin, dir string, accts []accounts.Account, users map[string]mailUser, settle, d time.Duration) (trayResult, error) {
	r := trayResult{accounts: len(accts), idle: d}
	h, err := newHome(s, dir, accts, users)
	if err != nil {
		return r, err
	}
	bus, err := privatebus.Start(dir, false)
	if err != nil {
		return r, err
	}
	defer bus.Stop()
	addr := bus.Addr
	logf, err := os.Create(filepath.Join(dir, "tray.log"))
	if err != nil {
		return r, err
	}
	defer logf.Close()
	cmd := exec.Command(bin)
	cmd.Env = h.env("DBUS_SESSION_BUS_ADDRESS=" + addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return r, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	pid := cmd.Process.Pid
	select {
	case err := <-exited:
		return r, fmt.Errorf("the tray exited early: %v (see %s)", err, logf.Name())
	case <-time.After(settle):
	}
	before, err := sample(pid)
	if err != nil {
		return r, err
	}
	select {
	case err := <-exited:
		return r, fmt.Errorf("the tray exited: %v (see %s)", err, logf.Name())
	case <-time.After(d):
	}
	after, err := sample(pid)
	if err != nil {
		return r, err
	}
	r.rss, r.hwm = after.rss, after.hwm
	r.cpu = after.cpu - before.cpu
	r.wakeMain = after.wakeMain - before.wakeMain
	r.wakeAll = after.wakeAll - before.wakeAll
	r.threads, r.sockets = after.threads, after.sockets
	return r, nil
}

// procSample is what /proc says about a process at one moment.
type procSample struct {
	rss, hwm          int64 // KiB
	cpu               time.Duration
	wakeMain, wakeAll int64 // voluntary + nonvoluntary context switches
	threads, sockets  int
}

func sample(pid int) (procSample, error) {
	var p procSample
	st, err := procStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	p.rss, p.hwm = st["VmRSS"], st["VmHWM"]
	p.wakeMain = st["voluntary_ctxt_switches"] + st["nonvoluntary_ctxt_switches"]
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	p.threads = len(tasks)
	for _, t := range tasks {
		if ts, err := procStatus(t); err == nil {
			p.wakeAll += ts["voluntary_ctxt_switches"] + ts["nonvoluntary_ctxt_switches"]
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// Fields after the ")" that ends the command name: state is field 3,
	// utime and stime are 14 and 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	p.cpu = time.Duration(ut+stt) * time.Second / hz
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			p.sockets++
		}
	}
	return p, nil
}

// procStatus reads the numeric fields of a /proc status file (kB dropped).
func procStatus(path string) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		if fs := strings.Fields(v); len(fs) > 0 {
			if n, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
				m[k] = n
			}
		}
	}
	return m, sc.Err()
}
