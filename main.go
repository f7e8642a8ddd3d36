// Command mailsneaker is a system-tray mail notifier for IMAP and POP3
// accounts. Its commands and flags are listed once, in cli.Help, which
// `mailsneaker -h` and the man page are made from.
package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"mailsneaker/cli"
)

// version is stamped by -ldflags "-X main.version=v1.2.3"; else cli.Version asks the build info.
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Loading the system roots takes ~8 ms; do it while the config, the
	// state and the first connection are being set up, not after.
	go x509.SystemCertPool()
	fs := flag.NewFlagSet("mailsneaker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "debug logs")
	showVersion := fs.Bool("version", false, "print the version")
	fs.Usage = func() {
		cli.Help().Usage(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cli.ExitUsage
	}
	if *showVersion {
		bi, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, "mailsneaker", cli.Version(version, bi, ok))
		return cli.ExitOK
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	env, err := cli.NewEnv(stdin, stdout, stderr, logger)
	if err != nil {
		fmt.Fprintln(stderr, "mailsneaker:", err)
		return cli.ExitUsage
	}
	cmd, rest := "", fs.Args()
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "check":
		return cli.Check(ctx, env, rest)
	case "mark-read":
		return cli.MarkRead(ctx, env, rest)
	case "account":
		return cli.Account(ctx, env, rest)
	case "", "tray":
		return runTray(ctx, env)
	case "demo":
		return runDemo(ctx, env, rest)
	}
	fmt.Fprintf(stderr, "mailsneaker: unknown command %q\n", cmd)
	fs.Usage()
	return cli.ExitUsage
}
