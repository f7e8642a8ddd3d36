//go:build !unix

package accounts

import "os/exec"

// killGroup leaves the default: cancelling kills only sh itself.
func killGroup(*exec.Cmd) {}
