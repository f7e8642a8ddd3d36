package main

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"mailsneaker/cli"
)

// `mailsneaker -h` is cli.Help's usage text, and the global flags main
// parses are the ones the help (and so the man page) describes.
func TestUsageIsTheHelpReference(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-h"}, strings.NewReader(""), &stdout, &stderr); code != cli.ExitUsage {
		t.Fatalf("-h: exit %d", code)
	}
	ref := cli.Help()
	var usage bytes.Buffer
	ref.Usage(&usage)
	got := stderr.String()
	if !strings.HasPrefix(got, usage.String()) {
		t.Fatalf("-h prints\n%s\nwant it to start with cli.Help's usage\n%s", got, usage.String())
	}
	var parsed, described []string
	for _, m := range regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(strings.TrimPrefix(got, usage.String()), -1) {
		parsed = append(parsed, m[1])
	}
	for _, f := range ref.Global {
		described = append(described, f.Name)
	}
	if !reflect.DeepEqual(parsed, described) {
		t.Errorf("main parses global flags %q; cli.Help describes %q", parsed, described)
	}
	// Every command of the table is one main knows (those that run the
	// tray are left out: they would start it).
	seen := map[string]bool{}
	for _, c := range ref.Commands {
		word, _, _ := strings.Cut(c.Name, " ")
		if word == "" || word == "demo" || seen[word] {
			continue
		}
		seen[word] = true
		stderr.Reset()
		run([]string{word, "-h"}, strings.NewReader(""), &stdout, &stderr)
		if strings.Contains(stderr.String(), "mailsneaker: unknown command") {
			t.Errorf("cli.Help names %q, which main does not know:\n%s", word, stderr.String())
		}
	}
}
