package accounts

import (
	"os/exec"
	"syscall"
)

// setRawCmdLine makes Windows run raw as the command line instead of the
// line Go would quote from cmd.Args.
func setRawCmdLine(cmd *exec.Cmd, raw string) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CmdLine = raw
}
