package launch

import (
	"strings"
	"testing"
)

// TestPlanWindowsBatchFile: on Windows a batch file's command line is
// parsed again by cmd.exe, so a Message-ID with cmd.exe syntax must not
// reach one (before, `open.cmd {message_id}` with <x"&calc&"@y> ran calc);
// an ordinary program, or a batch file with a plain Message-ID, still runs.
func TestPlanWindowsBatchFile(t *testing.T) {
	hostile := `<x"&calc&"@y>`
	tests := []struct {
		cmd, id string
		ok      bool
	}{
		{`'C:\tools\open.cmd' {message_id}`, hostile, false},
		{`'C:\tools\OPEN.BAT' "mid:{message_id}"`, hostile, false},
		{`'C:\tools\open.cmd.' {message_id}`, hostile, false}, // Windows drops trailing dots
		{`open.cmd {message_id}`, "<a%PATH%@b>", false},
		{`open.cmd {message_id}`, "<a^b@c>", false},
		{`open.cmd {message_id}`, "<plain.id-1@example.org>", true},
		{`open.cmd {account}`, hostile, true}, // the Message-ID is not in the command
		{`'C:\Program Files\Mozilla Thunderbird\thunderbird.exe' mid:{message_id}`, hostile, true},
	}
	for _, tt := range tests {
		m := Mail{Account: "work", OpenCommand: tt.cmd, MessageID: tt.id}
		a, err := plan(m, "windows")
		if tt.ok != (err == nil) {
			t.Errorf("plan(%q, %q) = %q, %v; want ok %v", tt.cmd, tt.id, a.argv, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "not run") {
			t.Errorf("plan(%q, %q): error %v does not say it was not run", tt.cmd, tt.id, err)
		}
		// Elsewhere sh runs nothing of the value: nothing to refuse.
		if _, err := plan(m, "linux"); err != nil {
			t.Errorf("linux: plan(%q, %q): %v", tt.cmd, tt.id, err)
		}
	}
}
