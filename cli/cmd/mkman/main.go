// Command mkman writes the manual page and the shell completions of
// mailsneaker from cli.Help, the source of `mailsneaker -h`, for packaging.
//
//	go run ./cli/cmd/mkman -out DIR -version V [-epoch SECONDS]
//
// It writes DIR/mailsneaker.1, DIR/mailsneaker.bash, DIR/_mailsneaker (zsh)
// and DIR/mailsneaker.fish. The page's date is the epoch's (the last
// commit's, in the Makefile), so that one commit gives the same files.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"mailsneaker/cli"
)

func main() {
	out := flag.String("out", "", "output directory")
	version := flag.String("version", "dev", "version for the page's footer")
	epoch := flag.Int64("epoch", 0, "date of the page, in seconds since 1970 (0: today)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*out, *version, *epoch); err != nil {
		fmt.Fprintln(os.Stderr, "mkman:", err)
		os.Exit(1)
	}
}

func write(dir, version string, epoch int64) error {
	date := time.Now().UTC()
	if epoch > 0 {
		date = time.Unix(epoch, 0).UTC()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ref := cli.Help()
	files := []struct {
		name string
		gen  func(io.Writer)
	}{
		{ref.Name + ".1", func(w io.Writer) { ref.ManPage(w, version, date.Format("2006-01-02")) }},
		{ref.Name + ".bash", ref.Bash},
		{"_" + ref.Name, ref.Zsh},
		{ref.Name + ".fish", ref.Fish},
	}
	for _, f := range files {
		var b bytes.Buffer
		f.gen(&b)
		if err := os.WriteFile(filepath.Join(dir, f.name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
