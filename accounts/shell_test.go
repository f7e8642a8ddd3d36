package accounts

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"testing"
)

func TestShellArgv(t *testing.T) {
	const line = `"C:\Program Files\pass.exe" show "mail/work" | more`
	for _, tc := range []struct {
		goos    string
		argv    []string
		rawLine string
	}{
		{"linux", []string{"sh", "-c", line}, ""},
		{"darwin", []string{"sh", "-c", line}, ""},
		{"freebsd", []string{"sh", "-c", line}, ""},
		{"windows", []string{"cmd.exe", "/S", "/C", line}, `cmd.exe /S /C "` + line + `"`},
	} {
		argv, raw := shellArgv(tc.goos, line)
		if !slices.Equal(argv, tc.argv) || raw != tc.rawLine {
			t.Errorf("%s: argv %q raw %q; want %q %q", tc.goos, argv, raw, tc.argv, tc.rawLine)
		}
	}
}

func TestShellCommandRuns(t *testing.T) {
	cmd := ShellCommand(context.Background(), "echo one&& echo two")
	if want, _ := shellArgv(runtime.GOOS, "echo one&& echo two"); !slices.Equal(cmd.Args, want) {
		t.Errorf("Args = %q, want %q", cmd.Args, want)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.ReplaceAll(out, []byte("\r"), nil); string(got) != "one\ntwo\n" {
		t.Errorf("output %q", out)
	}
}
