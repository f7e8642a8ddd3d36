package poller

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// A server that quotes the password back in its refusal must not get it
// into the error, the UI's message or the logs (POP3 masks it the same way).
func TestIMAPLoginErrorMasksEchoedPassword(t *testing.T) {
	const pw = `hunter2"x\y`
	const quoted = `"hunter2\"x\\y"`
	for _, tc := range []struct {
		name  string
		reply func(tag string) string
		kind  ErrorKind // KindProtocol: imapclient does not quote the line
	}{
		{"NO verbatim", func(tag string) string {
			return tag + " NO [AUTHENTICATIONFAILED] wrong password " + pw + " for u\r\n"
		}, KindAuth},
		{"NO quoted", func(tag string) string {
			return tag + " NO LOGIN u " + quoted + " failed\r\n"
		}, KindAuth},
		{"UNAVAILABLE", func(tag string) string {
			return tag + " NO [UNAVAILABLE] try later, " + pw + "\r\n"
		}, KindNetwork},
		{"BAD", func(tag string) string {
			return tag + " BAD what is " + quoted + "?\r\n"
		}, KindAuth},
		{"garbage", func(tag string) string {
			return tag + " WHAT " + pw + " (\r\n"
		}, KindProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var sent bytes.Buffer
			addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
				io.WriteString(c, "* OK [CAPABILITY IMAP4rev1] fake\r\n")
				record := func(line string) { mu.Lock(); sent.WriteString(line); mu.Unlock() }
				imapAnswer(c, br, record, func(tag, cmd string) string {
					if cmd == "LOGIN" {
						return tc.reply(tag)
					}
					return tag + " OK fine\r\n"
				})
			})
			var logs bytes.Buffer
			o := imapOptions(nil, pw)
			o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			o.Timeout = 5 * time.Second
			ck := NewIMAP(imapFakeAccount(addr, accounts.None), o)
			defer ck.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := ck.Check(ctx, Query{})
			if err == nil {
				t.Fatal("Check succeeded against a refusing server")
			}
			mu.Lock()
			gotLogin := strings.Contains(sent.String(), quoted)
			mu.Unlock()
			if !gotLogin {
				t.Fatalf("the server never saw the password; the test proves nothing (it got %q)", sent.String())
			}
			if k := KindOf(err); k != tc.kind {
				t.Errorf("kind %v, want %v (err %v)", k, tc.kind, err)
			}
			for what, text := range map[string]string{"error": err.Error(), "log": logs.String()} {
				if strings.Contains(text, "hunter2") {
					t.Errorf("the %s holds the password: %q", what, strings.ReplaceAll(text, "hunter2", "<PASSWORD>"))
				}
			}
			if tc.kind != KindProtocol && !strings.Contains(err.Error(), imapMasked) {
				t.Errorf("error %q: the server's words should stay, with the password masked", err)
			}
		})
	}
}

func TestIMAPMaskKeepsTypes(t *testing.T) {
	if err := imapMask(nil, "pw"); err != nil {
		t.Errorf("imapMask(nil) = %v", err)
	}
	plain := &CheckError{Kind: KindAuth, Msg: "no"}
	if got := imapMask(plain, "secret"); got != plain {
		t.Errorf("an error without the password changed: %v", got)
	}
	if got := imapMask(plain, ""); got != plain {
		t.Errorf("an empty password changed the error: %v", got)
	}
}
