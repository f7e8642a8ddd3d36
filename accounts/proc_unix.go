//go:build unix

package accounts

import (
	"os/exec"
	"syscall"
)

// killGroup makes cancelling cmd kill its whole process group, so that
// programs started by sh -c die with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
