package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"mailsneaker/internal/testenv"
)

// parserHelp runs a command's own flag parsing with -h (or with arguments
// it refuses) and returns what it printed: its usage line and its flags,
// as the user sees them. This is the code the Reference must describe.
func parserHelp(t *testing.T, name string) string {
	t.Helper()
	var stderr bytes.Buffer
	e := &Env{Stdout: io.Discard, Stderr: &stderr, ConfigPath: filepath.Join(t.TempDir(), "none.toml"), StateDir: t.TempDir()}
	ctx := context.Background()
	var code int
	switch name {
	case "check":
		code = Check(ctx, e, []string{"-h"})
	case "mark-read":
		code = MarkRead(ctx, e, []string{"-h"})
	case "account add":
		code = Account(ctx, e, []string{"add", "-h"})
	case "account list":
		code = Account(ctx, e, []string{"list", "extra"})
	case "account remove":
		code = Account(ctx, e, []string{"remove"})
	case "demo":
		if _, err := DemoArgs(e, []string{"-h"}); err != nil {
			code = ExitUsage
		}
	default:
		t.Fatalf("no parser known for command %q: teach parserHelp about it", name)
	}
	if code != ExitUsage {
		t.Fatalf("%s -h: exit %d, want %d", name, code, ExitUsage)
	}
	return stderr.String()
}

var defaultsFlag = regexp.MustCompile(`(?m)^  -([a-z-]+)(?: (\S+))?`)

// parsedFlags are the flag names in flag.PrintDefaults output.
func parsedFlags(help string) []string {
	var out []string
	for _, m := range defaultsFlag.FindAllStringSubmatch(help, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// The table says what the parsers do: same usage line, same flags, and a
// flag takes a value exactly when the table gives it a placeholder.
func TestHelpMatchesParsers(t *testing.T) {
	for _, c := range Help().Commands {
		if c.Name == "" { // the tray: no flags of its own
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			got := parserHelp(t, c.Name)
			if first, _, _ := strings.Cut(got, "\n"); first != "usage: "+c.command() {
				t.Errorf("the command prints\n\t%s\nthe table says\n\tusage: %s", first, c.command())
			}
			var want []string
			takesValue := map[string]bool{}
			for _, f := range c.Flags {
				want = append(want, f.Name)
				takesValue[f.Name] = f.Arg != ""
			}
			sort.Strings(want)
			if have := parsedFlags(got); !reflect.DeepEqual(have, want) && (len(have) > 0 || len(want) > 0) {
				t.Errorf("flags parsed: %q; flags in cli.Help: %q", have, want)
			}
			for _, m := range defaultsFlag.FindAllStringSubmatch(got, -1) {
				if has := m[2] != ""; has != takesValue[m[1]] {
					t.Errorf("--%s takes a value: %v in the parser, %v in the table", m[1], has, takesValue[m[1]])
				}
			}
		})
	}
}

func manPage(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	Help().ManPage(&b, "v1.2.3", "2025-01-02")
	return b.String()
}

// Every command and flag is in the usage text, the man page and the
// completions; the man page is generated, so this guards the generators.
func TestEveryCommandEverywhere(t *testing.T) {
	ref := Help()
	var usage, bash, zsh, fish bytes.Buffer
	ref.Usage(&usage)
	ref.Bash(&bash)
	ref.Zsh(&zsh)
	ref.Fish(&fish)
	man := manPage(t)
	_, synopsis, _ := strings.Cut(man, ".SH \"SYNOPSIS\"")
	synopsis, _, _ = strings.Cut(synopsis, ".SH")
	_, commands, _ := strings.Cut(man, ".SH \"COMMANDS\"")
	commands, _, _ = strings.Cut(commands, ".SH")
	for _, c := range ref.Commands {
		if c.Name == "" {
			if !strings.Contains(usage.String(), "(none)") {
				t.Error("usage lacks the tray (no command)")
			}
			continue
		}
		if !strings.Contains(usage.String(), "  "+c.Name) {
			t.Errorf("usage lacks %q", c.Name)
		}
		if l := `\fB` + literal(c.Name) + `\fR`; !strings.Contains(synopsis, l) || !strings.Contains(commands, l) {
			t.Errorf("man page SYNOPSIS or COMMANDS lacks %q", c.Name)
		}
		last := c.Name[strings.LastIndex(c.Name, " ")+1:]
		for shell, s := range map[string]string{"bash": bash.String(), "zsh": zsh.String(), "fish": fish.String()} {
			if !regexp.MustCompile(`[ '(]` + regexp.QuoteMeta(last) + `[ ':]`).MatchString(s) {
				t.Errorf("%s completion lacks %q", shell, c.Name)
			}
		}
		for _, f := range c.Flags {
			if !strings.Contains(commands, `\fB`+literal("--"+f.Name)+`\fR`) {
				t.Errorf("man page lacks %s --%s", c.Name, f.Name)
			}
			if !strings.Contains(bash.String(), "--"+f.Name) || !strings.Contains(zsh.String(), "--"+f.Name) ||
				!strings.Contains(fish.String(), "-l "+f.Name) {
				t.Errorf("a completion lacks %s --%s", c.Name, f.Name)
			}
		}
	}
	for _, f := range ref.Global {
		if !strings.Contains(usage.String(), "[-"+f.Name+"]") || !strings.Contains(man, `\fB`+literal("-"+f.Name)+`\fR`) {
			t.Errorf("usage or man page lacks -%s", f.Name)
		}
	}
	for _, e := range ref.Exit {
		if !strings.Contains(man, e.Text) {
			t.Errorf("man page lacks exit status %d", e.Code)
		}
	}
}

func TestManPageHeader(t *testing.T) {
	man := manPage(t)
	if !strings.Contains(man, `.TH "MAILSNEAKER" "1" "2025-01-02" "mailsneaker v1.2.3" "User Commands"`) {
		t.Errorf("man page header wrong:\n%s", man[:min(len(man), 300)])
	}
	if strings.Contains(man, `\Seen`) || !strings.Contains(man, `\eSeen`) {
		t.Error(`a backslash in the text is not escaped (\Seen would be a roff escape)`)
	}
	for i, line := range strings.Split(man, "\n") {
		if strings.HasPrefix(line, "'") {
			t.Errorf("line %d starts with a quote, which roff reads as a request: %q", i+1, line)
		}
	}
}

// groff reads the page without a warning (it is what man runs).
func TestManPageGroff(t *testing.T) {
	testenv.Need(t, "groff (package groff-base; scripts/test installs it)", "groff")
	groff, _ := exec.LookPath("groff")
	cmd := exec.Command(groff, "-man", "-ww", "-z")
	cmd.Stdin = strings.NewReader(manPage(t))
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("groff: %v\n%s", err, out)
	}
}

// The bash completion completes: run it as bash would.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var script bytes.Buffer
	Help().Bash(&script)
	tests := []struct {
		line string // the words so far; the last is the one being completed
		want string
	}{
		{"mailsneaker ", "-v -version demo check mark-read account"},
		{"mailsneaker ch", "check"},
		{"mailsneaker check --", "--json --account"},
		{"mailsneaker -v check --j", "--json"},
		{"mailsneaker account ", "add list remove"},
		{"mailsneaker account add --protocol ", "imap pop3"},
		{"mailsneaker account add --security s", "starttls"},
		{"mailsneaker account add --name check --no", "--no-verify"}, // a flag's value is not a command
		{"mailsneaker mark-read --account work --", "--account --on-server"},
	}
	for _, tt := range tests {
		words := strings.Split(tt.line, " ")
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, shellQuote(w))
		}
		prog := script.String() + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "\n_mailsneaker\necho \"${COMPREPLY[*]}\"\n"
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.line, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tt.want {
			t.Errorf("%q completes to %q, want %q", tt.line, got, tt.want)
		}
	}
}

// Other shells parse their scripts, where installed (CI has neither).
func TestZshFishSyntax(t *testing.T) {
	ref := Help()
	for _, sh := range []struct {
		name string
		gen  func(io.Writer)
	}{{"zsh", ref.Zsh}, {"fish", ref.Fish}} {
		testenv.Need(t, sh.name+" (scripts/test installs it)", sh.name)
		path, _ := exec.LookPath(sh.name)
		var b bytes.Buffer
		sh.gen(&b)
		f := filepath.Join(t.TempDir(), "completion")
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(path, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh.name, err, out)
		}
	}
}

func TestUsageText(t *testing.T) {
	var b bytes.Buffer
	Help().Usage(&b)
	want := `usage: mailsneaker [-v] [-version] [command]
commands:
  (none)          run the tray
  demo [--trouble]
                  run the tray on built-in demo servers with mail arriving
  check [--json] [--account NAME]
                  check once; print the new mail (exit 1 if an account failed)
  mark-read [--account NAME] [--on-server]
                  check once, then mark what is new as read
  account add [flags]
                  add an account; the password goes to the OS keychain
  account list    list the accounts
  account remove NAME
                  remove an account and its keychain entry
Run ` + "`mailsneaker COMMAND -h`" + ` for a command's flags; ` + "`man mailsneaker`" + ` for the manual.
`
	if b.String() != want {
		t.Errorf("usage:\n%s\nwant:\n%s", b.String(), want)
	}
}

// The fish completion completes.
func TestFishCompletion(t *testing.T) {
	testenv.Need(t, "fish (scripts/test installs it)", "fish")
	fish, _ := exec.LookPath("fish")
	var b bytes.Buffer
	Help().Fish(&b)
	f := filepath.Join(t.TempDir(), "mailsneaker.fish")
	if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ line, want string }{
		{"mailsneaker ", "account check demo mark-read"},
		{"mailsneaker check --", "--account --json"},
		{"mailsneaker account ", "add list remove"},
		{"mailsneaker account add --protocol ", "imap pop3"},
		{"mailsneaker account add --n", "--name --no-verify"},
	}
	for _, tt := range tests {
		out, err := exec.Command(fish, "--no-config", "-c", "source "+shellQuote(f)+"; complete -C "+shellQuote(tt.line)).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.line, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			w, _, _ := strings.Cut(l, "\t")
			got = append(got, w)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%q completes to %q, want %q", tt.line, got, tt.want)
		}
	}
}
