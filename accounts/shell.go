package accounts

import (
	"context"
	"os/exec"
	"runtime"
)

// ShellCommand returns the command that runs line, a command line the user
// wrote in the config file (password_command), through the
// system shell: `cmd /S /C line` on Windows, `sh -c line` elsewhere. It is
// the one place that chooses the shell, so that both keys mean the same on
// every OS. line must never hold text from a mail: a sender's text goes into
// argv elements, never into a shell line.
func ShellCommand(ctx context.Context, line string) *exec.Cmd {
	argv, raw := shellArgv(runtime.GOOS, line)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	setRawCmdLine(cmd, raw)
	return cmd
}

// shellArgv is the argv that runs line on goos and, on Windows, the raw
// command line to hand to CreateProcess. cmd.exe does not parse its command
// line by the C runtime's rules that Go's argv quoting assumes (a `\"` means
// nothing to it), so the line goes through verbatim: /S makes cmd strip
// exactly the outer pair of quotes and run the rest as written.
func shellArgv(goos, line string) (argv []string, raw string) {
	if goos == "windows" {
		return []string{"cmd.exe", "/S", "/C", line}, `cmd.exe /S /C "` + line + `"`
	}
	return []string{"sh", "-c", line}, ""
}
