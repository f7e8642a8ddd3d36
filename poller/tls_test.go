package poller

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/pop3d"
)

// expiredCert makes a certificate for 127.0.0.1 that expired yesterday and a
// pool that trusts it, so that only the expiry is wrong.
func expiredCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	c := testenv.SelfSigned(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	return c.Server, c.Pool
}

func tlsCheck(a accounts.Account, roots *x509.CertPool, pw string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) error {
	o := &Options{RootCAs: roots, Timeout: 10 * time.Second, Dial: dial,
		Password: func(context.Context) (string, error) { return pw, nil }}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Verify(ctx, a, o)
	return err
}

func wantTLSRefusal(t *testing.T, err error, kind ErrorKind, words ...string) {
	t.Helper()
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Kind != kind {
		t.Fatalf("error %v, want a *CheckError of kind %s", err, kind)
	}
	for _, w := range words {
		if !strings.Contains(ce.Msg, w) {
			t.Errorf("message %q does not say %q", ce.Msg, w)
		}
	}
}

// TestTLSRefusals: every way TLS can be wrong is refused with a message that
// says what is wrong, for both protocols, and security "none" is the only way
// to speak clear text.
func TestTLSRefusals(t *testing.T) {
	t.Parallel()
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	at := func(proto accounts.Protocol, host string, port int, sec accounts.Security) accounts.Account {
		return accounts.Account{Name: "t", Protocol: proto, Host: host, Port: port, Security: sec, Username: user}.WithDefaults()
	}
	to := func(port int) func(ctx context.Context, network, addr string) (net.Conn, error) {
		return func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, d.Addr(port))
		}
	}
	for _, tc := range []struct {
		proto accounts.Protocol
		tls   int
		stls  int
	}{{accounts.IMAP, d.IMAPS, d.IMAP}, {accounts.POP3, d.POP3S, d.POP3}} {
		for _, sec := range []accounts.Security{accounts.TLS, accounts.StartTLS} {
			port := tc.tls
			if sec == accounts.StartTLS {
				port = tc.stls
			}
			name := string(tc.proto) + " " + string(sec)
			t.Run(name+" wrong host name", func(t *testing.T) {
				err := tlsCheck(at(tc.proto, "mail.example.com", port, sec), d.RootCAs, pw, to(port))
				wantTLSRefusal(t, err, KindTLS, "certificate of mail.example.com", "is for another name (localhost, 127.0.0.1, ::1)", "check the host name")
			})
			t.Run(name+" self-signed without ca_file", func(t *testing.T) {
				err := tlsCheck(at(tc.proto, "127.0.0.1", port, sec), x509.NewCertPool(), pw, nil)
				wantTLSRefusal(t, err, KindTLS, "is self-signed", "set ca_file")
			})
			t.Run(name+" self-signed with ca_file", func(t *testing.T) {
				a := at(tc.proto, "127.0.0.1", port, sec)
				a.CAFile = d.CAFile
				if err := tlsCheck(a, x509.NewCertPool(), pw, nil); err != nil {
					t.Fatal(err)
				}
			})
		}
	}

	expired, expiredPool := expiredCert(t)
	t.Run("expired imap", func(t *testing.T) {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", expired)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { c.(*tls.Conn).Handshake(); c.Close() }()
			}
		}()
		err = tlsCheck(at(accounts.IMAP, "127.0.0.1", ln.Addr().(*net.TCPAddr).Port, accounts.TLS), expiredPool, pw, nil)
		wantTLSRefusal(t, err, KindTLS, "has expired or is not yet valid", time.Now().Add(-24*time.Hour).Format(time.DateOnly))
	})
	t.Run("expired pop3", func(t *testing.T) {
		s := &pop3d.Server{}
		s.AddUser(user, pw)
		port := pop3StartServer(t, s, expired)
		err := tlsCheck(at(accounts.POP3, "127.0.0.1", port, accounts.TLS), expiredPool, pw, nil)
		wantTLSRefusal(t, err, KindTLS, "has expired or is not yet valid")
	})

	// STLS stripped from CAPA by a man in the middle (the IMAP twin is
	// TestIMAPDovecotStartTLSStripped): refused, and the password never
	// reached the wire.
	t.Run("pop3 STLS stripped", func(t *testing.T) {
		var mu sync.Mutex
		var sent bytes.Buffer
		addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
			up, err := net.Dial("tcp", d.Addr(d.POP3))
			if err != nil {
				return
			}
			defer up.Close()
			go func() {
				r := bufio.NewReader(up)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						c.Close()
						return
					}
					if strings.HasPrefix(strings.ToUpper(line), "STLS") {
						continue
					}
					c.Write([]byte(line))
				}
			}()
			buf := make([]byte, 4096)
			for {
				n, err := br.Read(buf)
				mu.Lock()
				sent.Write(buf[:n])
				mu.Unlock()
				if err != nil {
					return
				}
				up.Write(buf[:n])
			}
		})
		a := imapFakeAccount(addr, accounts.StartTLS)
		a.Protocol, a.Username = accounts.POP3, user
		err := tlsCheck(a, d.RootCAs, pw, nil)
		wantTLSRefusal(t, err, KindTLS, "does not offer STLS", "refusing to send the password in clear")
		mu.Lock()
		defer mu.Unlock()
		if s := sent.String(); strings.Contains(s, pw) || strings.Contains(s, "PASS") || strings.Contains(s, "USER") {
			t.Errorf("the client sent %q through the stripping proxy", s)
		}
	})

	// Clear text only when the config says security = "none".
	imapMem := startIMAPMem(t)
	pop := &pop3d.Server{}
	pop.AddUser("alice", "secret")
	popPort := pop3StartServer(t, pop, nil)
	for _, tc := range []struct {
		proto accounts.Protocol
		port  int
	}{{accounts.IMAP, imapMem.port}, {accounts.POP3, popPort}} {
		t.Run(string(tc.proto)+" tls against a plain server", func(t *testing.T) {
			a := at(tc.proto, "127.0.0.1", tc.port, accounts.TLS)
			a.Username = "alice"
			err := tlsCheck(a, d.RootCAs, "secret", nil)
			wantTLSRefusal(t, err, KindTLS, "TLS handshake with 127.0.0.1", "is security (tls/starttls) right")
		})
		t.Run(string(tc.proto)+" none against a plain server", func(t *testing.T) {
			a := at(tc.proto, "127.0.0.1", tc.port, accounts.None)
			a.Username = "alice"
			if err := tlsCheck(a, nil, "secret", nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}
