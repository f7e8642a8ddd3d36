//go:build !windows

package accounts

import "os/exec"

// setRawCmdLine does nothing: outside Windows argv reaches sh as it is.
func setRawCmdLine(*exec.Cmd, string) {}
