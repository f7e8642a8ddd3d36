package poller

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"mailsneaker/accounts"
)

// TestIMAPLoginResponseCodes: a refused LOGIN is explained by its response
// code (RFC 5530); "check the password" only when the server says the
// credentials are wrong or gives no code.
func TestIMAPLoginResponseCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reply string // after the tag
		kind  ErrorKind
		words string
	}{
		{"NO [AUTHENTICATIONFAILED] Authentication failed.", KindAuth, "check the password"},
		{"NO Login failed.", KindAuth, "check the password"},
		{"NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)", KindProtocol,
			`allows only 10 connections for user "u" and they are taken; MailSneaker uses up to 2: lower max_connections or close another mail client`},
		{"NO [LIMIT] Too many connections", KindProtocol, "allows no more connections"},
		{"NO [UNAVAILABLE] Try later", KindNetwork, "temporarily unavailable"},
		{"NO [INUSE] Mailbox locked", KindProtocol, "in use by another session"},
		{"NO [AUTHORIZATIONFAILED] Not allowed", KindAuth, "check the user name"},
		{"NO [EXPIRED] Password expired", KindAuth, "the password has expired"},
		{"NO [PRIVACYREQUIRED] Use TLS", KindConfig, "set security to tls or starttls"},
		{"NO [ALERT] Your account is suspended, call 555-1234", KindAuth, "which says: Your account is suspended"},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
				io.WriteString(c, "* OK [CAPABILITY IMAP4rev1] fake\r\n")
				imapAnswer(c, br, nil, func(tag, cmd string) string {
					if cmd == "LOGIN" {
						return tag + " " + tc.reply + "\r\n"
					}
					return tag + " OK fine\r\n"
				})
			})
			a := imapFakeAccount(addr, accounts.None)
			a.MaxConnections = 2
			o := imapOptions(nil, "secret")
			o.Timeout = 5 * time.Second
			ck := NewIMAP(a, o)
			defer ck.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := ck.Check(ctx, Query{})
			if err == nil {
				t.Fatal("Check succeeded against a refusing server")
			}
			if k := KindOf(err); k != tc.kind {
				t.Errorf("kind %v, want %v (err %v)", k, tc.kind, err)
			}
			if !strings.Contains(err.Error(), tc.words) {
				t.Errorf("error %q does not say %q", err, tc.words)
			}
			if tc.words != "check the password" && strings.Contains(err.Error(), "check the password") {
				t.Errorf("error %q blames the password", err)
			}
		})
	}
}

// TestIMAPLoginAlertIsCleaned: the words of an ALERT reach the user's
// message without control characters and cut to imapSaidMax runes, and a
// password the server echoes where the cut falls stays masked whole.
func TestIMAPLoginAlertIsCleaned(t *testing.T) {
	t.Parallel()
	// "\x1b[2J" becomes " [2J" and then "[2J": the password starts at
	// rune 296 of the cleaned text, across the cut at 300.
	alert := "\x1b[2J" + strings.Repeat("a", imapSaidMax-7) + "secret and more words"
	addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		io.WriteString(c, "* OK [CAPABILITY IMAP4rev1] fake\r\n")
		imapAnswer(c, br, nil, func(tag, cmd string) string {
			if cmd == "LOGIN" {
				return tag + " NO [ALERT] " + alert + "\r\n"
			}
			return tag + " OK fine\r\n"
		})
	})
	a := imapFakeAccount(addr, accounts.None)
	o := imapOptions(nil, "secret")
	o.Timeout = 5 * time.Second
	ck := NewIMAP(a, o)
	defer ck.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ck.Check(ctx, Query{})
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v, want a CheckError", err)
	}
	if strings.ContainsRune(ce.Msg, 0x1b) {
		t.Errorf("message %q holds the server's control characters", ce.Msg)
	}
	_, said, ok := strings.Cut(ce.Msg, "which says: ")
	if !ok {
		t.Fatalf("message %q does not quote the ALERT", ce.Msg)
	}
	if n := utf8.RuneCountInString(said); n > imapSaidMax+1 {
		t.Errorf("the message quotes %d runes of the server, want at most %d and an ellipsis", n, imapSaidMax)
	}
	if strings.Contains(err.Error(), "secr") {
		t.Errorf("error %q shows part of the password", err)
	}
}
