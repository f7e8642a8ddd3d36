package autostart

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestQuoteExec(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/local/bin/mailsneaker", "/usr/local/bin/mailsneaker"},
		{"/opt/Mail Sneaker/mailsneaker", `"/opt/Mail Sneaker/mailsneaker"`},
		{"/home/a/100%/ms", "/home/a/100%%/ms"},
		{`/home/a/"x"/ms`, `"/home/a/\\"x\\"/ms"`},
		{`/home/a/b\c/ms`, `"/home/a/b\\\\c/ms"`},
		{"/home/a/$HOME/`x`/ms", "\"/home/a/\\\\$HOME/\\\\`x\\\\`/ms\""},
		{"/home/a/it's/ms", `"/home/a/it's/ms"`},
		{"/home/ä/ms", "/home/ä/ms"},
	}
	for _, tc := range tests {
		if got := quoteExec(tc.in); got != tc.want {
			t.Errorf("quoteExec(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got := unquoteExec(t, quoteExec(tc.in)); got != tc.in {
			t.Errorf("round trip of %q gives %q", tc.in, got)
		}
	}
}

// unquoteExec reads one Exec argument back the way a launcher does: string
// escapes first, then the quoting rules, then %%.
func unquoteExec(t *testing.T, s string) string {
	t.Helper()
	var unesc strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 's':
				unesc.WriteByte(' ')
			case 'n':
				unesc.WriteByte('\n')
			case 't':
				unesc.WriteByte('\t')
			case 'r':
				unesc.WriteByte('\r')
			case '\\':
				unesc.WriteByte('\\')
			default:
				t.Fatalf("invalid string escape \\%c in %s", s[i], s)
			}
			continue
		}
		unesc.WriteByte(s[i])
	}
	v := unesc.String()
	if strings.HasPrefix(v, `"`) {
		if !strings.HasSuffix(v, `"`) || len(v) < 2 {
			t.Fatalf("unterminated quote in %s", s)
		}
		var b strings.Builder
		in := v[1 : len(v)-1]
		for i := 0; i < len(in); i++ {
			if in[i] == '\\' && i+1 < len(in) && strings.IndexByte("\"`$\\", in[i+1]) >= 0 {
				i++
			} else if in[i] == '"' {
				t.Fatalf("unescaped quote in %s", s)
			}
			b.WriteByte(in[i])
		}
		v = b.String()
	}
	return strings.ReplaceAll(v, "%%", "%")
}

func TestCheckExe(t *testing.T) {
	for _, bad := range []string{"mailsneaker", "./mailsneaker", "/a/b\nc", ""} {
		if checkExe(bad) == nil {
			t.Errorf("checkExe(%q) accepted", bad)
		}
	}
	if err := checkExe("/usr/bin/mailsneaker"); err != nil {
		t.Error(err)
	}
}

func TestEntryEnabled(t *testing.T) {
	tests := []struct {
		content string
		want    bool
	}{
		{desktopEntry("/usr/bin/mailsneaker"), true},
		{"[Desktop Entry]\nType=Application\nHidden=true\n", false},
		{"[Desktop Entry]\nX-GNOME-Autostart-enabled = false\n", false},
		{"[Desktop Entry]\nExec=x\n[Desktop Action y]\nHidden=true\n", true},
	}
	for _, tc := range tests {
		if got := entryEnabled(tc.content); got != tc.want {
			t.Errorf("entryEnabled(%q) = %v", tc.content, got)
		}
	}
}

func TestLaunchAgent(t *testing.T) {
	exe := "/Applications/Mail & Sneaker.app/Contents/MacOS/mailsneaker"
	var plist struct {
		Dict struct {
			Keys    []string `xml:"key"`
			Strings []string `xml:"string"`
			Args    []string `xml:"array>string"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(launchAgent(exe)), &plist); err != nil {
		t.Fatal(err)
	}
	d := plist.Dict
	if strings.Join(d.Keys, ",") != "Label,ProgramArguments,RunAtLoad,ProcessType" ||
		len(d.Args) != 1 || d.Args[0] != exe || d.Strings[0] != agentLabel {
		t.Errorf("plist %+v", d)
	}
}
