package poller

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
)

func TestCheckErrorSaid(t *testing.T) {
	tests := []struct {
		name string
		err  *CheckError
		said string
		many bool
	}{
		{"imap NO", &CheckError{Kind: KindAuth, Msg: "login refused", Err: fmt.Errorf("login: %w",
			&imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Authentication failed."})},
			"Authentication failed.", false},
		{"imap code only", &CheckError{Kind: KindProtocol, Msg: "x", Err: &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit}},
			"LIMIT", true},
		{"pop3 -ERR", &CheckError{Kind: KindAuth, Msg: "login refused", Err: &ServerReply{Text: "-ERR [AUTH] Authentication failed."}},
			"[AUTH] Authentication failed.", false},
		{"pop3 bare", &CheckError{Kind: KindProtocol, Msg: "refused", Err: &ServerReply{Text: "  Too many connections, try later "}},
			"Too many connections, try later", true},
		{"dovecot BYE as text", &CheckError{Kind: KindNetwork, Msg: "closed", Err: errors.New("BYE Maximum number of connections from user+IP exceeded")},
			"", true},
		{"network", &CheckError{Kind: KindNetwork, Msg: "cannot reach x", Err: errors.New("dial tcp: connection refused")}, "", false},
		{"no cause", &CheckError{Kind: KindConfig, Msg: "no password"}, "", false},
	}
	for _, tt := range tests {
		if got := tt.err.Said(); got != tt.said {
			t.Errorf("%s: Said() = %q, want %q", tt.name, got, tt.said)
		}
		if got := tt.err.TooManyConnections(); got != tt.many {
			t.Errorf("%s: TooManyConnections() = %v, want %v", tt.name, got, tt.many)
		}
	}
}

func TestCheckErrorPasswordMissing(t *testing.T) {
	missing := &CheckError{Kind: KindConfig, Msg: "cannot get the password of account \"w\"",
		Err: &accounts.KeychainError{Op: "get", Account: "w", Kind: accounts.ErrNoPassword}}
	locked := &CheckError{Kind: KindConfig, Msg: "cannot get the password of account \"w\"",
		Err: &accounts.KeychainError{Op: "get", Account: "w", Kind: accounts.ErrKeyringLocked}}
	if !missing.PasswordMissing() || locked.PasswordMissing() {
		t.Errorf("PasswordMissing: missing %v, locked %v; want true, false", missing.PasswordMissing(), locked.PasswordMissing())
	}
}

func TestCheckErrorCertificate(t *testing.T) {
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "mail.example"}}
	for name, err := range map[string]error{
		"verification": &tls.CertificateVerificationError{UnverifiedCertificates: []*x509.Certificate{cert}, Err: x509.UnknownAuthorityError{}},
		"authority":    fmt.Errorf("handshake: %w", x509.UnknownAuthorityError{Cert: cert}),
		"hostname":     x509.HostnameError{Certificate: cert, Host: "other"},
		"invalid":      x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired},
	} {
		if got := (&CheckError{Kind: KindTLS, Msg: "x", Err: err}).Certificate(); got != cert {
			t.Errorf("%s: Certificate() = %v, want the server's", name, got)
		}
	}
	if got := (&CheckError{Kind: KindTLS, Msg: "handshake failed", Err: errors.New("tls: first record does not look like a TLS handshake")}).Certificate(); got != nil {
		t.Errorf("a handshake failure has certificate %v, want none", got)
	}
}

// failing is a checker whose every check fails, as an unreachable server
// does (a refused login would wait for the user instead of backing off).
type failing struct{}

func (failing) Check(context.Context, Query) (*Inbox, error) {
	return nil, &CheckError{Kind: KindNetwork, Msg: "connection refused"}
}
func (failing) Wait(ctx context.Context, d time.Duration) error { <-ctx.Done(); return ctx.Err() }
func (failing) Close() error                                    { return nil }

// TestSnapshotSaysWhenTheNextTryIs: after a failure the snapshot holds when
// it failed and the backoff's own end, not a guess.
func TestSnapshotSaysWhenTheNextTryIs(t *testing.T) {
	a := accounts.Account{Name: "f", Protocol: accounts.POP3, Host: "h", Username: "u"}.WithDefaults()
	lo := time.Hour
	before := time.Now()
	_, sub, stop := startManager(t, ManagerOptions{
		Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return failing{} },
		BackoffMin: lo, BackoffMax: 2 * lo,
	})
	defer stop()
	s := waitSnap(t, sub, "the failure", func(s Snapshot) bool { return s.Errors() == 1 })
	after := time.Now()
	got := s.Accounts[0]
	if got.Failed.Before(before) || got.Failed.After(after) {
		t.Errorf("Failed = %v, want between %v and %v", got.Failed, before, after)
	}
	// The first retry waits BackoffMin ±20 %.
	if d := got.Retry.Sub(got.Failed); d < lo*8/10 || d > lo*12/10 {
		t.Errorf("Retry is %v after Failed, want the first backoff (%v ±20 %%)", d, lo)
	}
}

// TestIMAPTooManyConnections: a server that turns the login away for too
// many connections ([LIMIT], as Dovecot does past mail_max_userip_connections)
// is told apart from a wrong password, and its words are kept.
func TestIMAPTooManyConnections(t *testing.T) {
	addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		io.WriteString(c, "* OK IMAP4rev1 ready\r\n")
		imapAnswer(c, br, nil, func(tag, cmd string) string {
			switch cmd {
			case "CAPABILITY":
				return "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK done\r\n"
			case "LOGIN":
				// Dovecot's words, as a real one answers the eleventh login.
				return tag + " NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)\r\n"
			}
			return tag + " OK fine\r\n"
		})
	})
	ck := NewIMAP(imapFakeAccount(addr, accounts.None), imapOptions(nil, "pw"))
	_, err := ck.Check(context.Background(), Query{})
	ck.Close()
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a CheckError", err)
	}
	if ce.Kind == KindAuth || strings.Contains(ce.Msg, "password") {
		t.Errorf("%v: kind %v; a full server is not a wrong password", ce, ce.Kind)
	}
	if want := "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)"; !ce.TooManyConnections() || ce.Said() != want {
		t.Errorf("%v: TooManyConnections %v, Said %q; want true and %q", ce, ce.TooManyConnections(), ce.Said(), want)
	}
}

// TestPOP3TooManyConnections: [IN-USE] (RFC 2449) after PASS is a busy
// mailbox, not a wrong password; the server's words are kept.
func TestPOP3TooManyConnections(t *testing.T) {
	_, _, err := pop3RunFake(t, accounts.None, strings.NewReader("+OK\r\n+OK\r\n-ERR [IN-USE] Mailbox locked by another session\r\n"), Query{})
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a CheckError", err)
	}
	if ce.Kind == KindAuth || !ce.TooManyConnections() || ce.Said() != "[IN-USE] Mailbox locked by another session" {
		t.Errorf("%v: kind %v, TooManyConnections %v, Said %q", ce, ce.Kind, ce.TooManyConnections(), ce.Said())
	}
}
