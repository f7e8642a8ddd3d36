package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// PasswordCommandTimeout bounds a password_command unless ctx ends sooner.
const PasswordCommandTimeout = 30 * time.Second

// maxCommandOutput is how much of a password_command's or oauth_command's
// stdout (and stderr) is kept: only the first line is used, and a command
// that prints without end must not fill memory until its timeout. A
// Microsoft access token is a few KiB.
const maxCommandOutput = 64 << 10

// Password returns the password of a: the first line of its password_command
// if it has one, else the keychain entry named after the account (kc may be
// nil for the defaults). The password is never part of an error.
func Password(ctx context.Context, a Account, kc *Keychain) (string, error) {
	if a.PasswordCommand != "" {
		return runPasswordCommand(ctx, a.Name, a.PasswordCommand, PasswordCommandTimeout)
	}
	return kc.Get(ctx, a.Name)
}

// runPasswordCommand runs command through the shell (ShellCommand: sh -c,
// or cmd /C on Windows) and returns the first line of its stdout. Errors quote the first line of stderr, never stdout.
func runPasswordCommand(ctx context.Context, account, command string, timeout time.Duration) (string, error) {
	return runSecretCommand(ctx, fmt.Sprintf("password_command of account %q", account), "the password", command, timeout)
}

// runSecretCommand is runPasswordCommand for the command what names, which
// must print want.
func runSecretCommand(ctx context.Context, what, want, command string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stdout, stderr := cappedBuffer{max: maxCommandOutput}, cappedBuffer{max: maxCommandOutput}
	cmd := ShellCommand(ctx, command)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	killGroup(cmd)
	// A grandchild that keeps stdout open would make Wait hang past the kill.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return "", fmt.Errorf("%s did not finish within %s: check that it does not wait for input: %w", what, timeout, ctxErr)
		}
		return "", fmt.Errorf("%s: %w", what, ctxErr)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return "", fmt.Errorf("%s could not run: %w", what, err)
		}
		msg := fmt.Sprintf("%s failed (%s)", what, exitErr.ProcessState)
		if line := firstLine(stderr.b); line != "" {
			msg += ": " + line
		}
		return "", errors.New(msg)
	}
	if stdout.over && !bytes.Contains(stdout.b, []byte("\n")) {
		return "", fmt.Errorf("%s printed a first line longer than %d KiB (it must print %s)", what, maxCommandOutput>>10, want)
	}
	pw := firstLine(stdout.b)
	if pw == "" {
		return "", fmt.Errorf("%s printed nothing on the first line of its output (it must print %s)", what, want)
	}
	return pw, nil
}

// firstLine is the first line of b without its line ending.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimRight(string(line), "\r")
}

// cappedBuffer keeps the first max bytes written to it and drops the
// rest, noting that it did; it never fails a write, so that the command
// is not killed by a broken pipe before it exits.
type cappedBuffer struct {
	max  int
	b    []byte
	over bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := c.max - len(c.b); len(p) > room {
		p, c.over = p[:room], true
	}
	c.b = append(c.b, p...)
	return n, nil
}
