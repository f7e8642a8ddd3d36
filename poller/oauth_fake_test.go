package poller

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/oauth"
)

// withTokenFile makes a an oauth2 account whose oauth_command prints tok
// from a file (a token never goes on a command line).
func withTokenFile(t *testing.T, a accounts.Account, tok string) accounts.Account {
	t.Helper()
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.Auth, a.OAuthCommand = accounts.AuthOAuth2, "cat '"+f+"'"
	return a
}

func xoauth2IR(user, tok string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + tok + "\x01\x01"))
}

// TestPOP3OAuthInitialResponseLimit: an AUTH line of at most 255 octets
// (CRLF included) carries the initial response; a longer one waits for
// the server's empty "+" and sends it on its own line (RFC 5034 section 4).
func TestPOP3OAuthInitialResponseLimit(t *testing.T) {
	// "AUTH XOAUTH2 " + base64(25 + len(tok) octets) + CRLF: 155 makes 255.
	for _, tc := range []struct {
		name string
		tok  string
		cont bool
	}{
		{"short", "tok", false},
		{"255 octets", strings.Repeat("t", 155), false},
		{"256 octets and more", strings.Repeat("t", 156), true},
		{"microsoft-sized", strings.Repeat("t", 2000), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ir := xoauth2IR("alice", tc.tok)
			script := "+OK ready\r\n+OK\r\nSASL PLAIN XOAUTH2\r\n.\r\n"
			want := "CAPA\r\n"
			if tc.cont {
				script += "+ \r\n"
				want += "AUTH XOAUTH2\r\n" + ir + "\r\n"
			} else {
				want += "AUTH XOAUTH2 " + ir + "\r\n"
				if len("AUTH XOAUTH2 "+ir+"\r\n") > 255 {
					t.Fatalf("the inline line is %d octets", len("AUTH XOAUTH2 "+ir+"\r\n"))
				}
			}
			script += "+OK in\r\n+OK\r\n1 aaa\r\n.\r\n+OK bye\r\n"
			want += "UIDL\r\nQUIT\r\n"
			f := &pop3Fake{r: strings.NewReader(script)}
			a := withTokenFile(t, pop3FakeAccount(accounts.None), tc.tok)
			o := pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) { return f, nil })
			in, err := NewPOP3(a, o).Check(context.Background(), Query{})
			if err != nil {
				t.Fatalf("check: %v\nwrote %q", err, f.written())
			}
			if in.Messages != 1 || f.written() != want {
				t.Fatalf("wrote %q\nwant  %q", f.written(), want)
			}
		})
	}
}

// TestPOP3OAuthErrorChallenge: the server's error challenge is answered
// with the empty response XOAUTH2 wants (OAUTHBEARER: %x01), and the -ERR
// that follows is KindAuth with the challenge's status, quoting no token.
func TestPOP3OAuthErrorChallenge(t *testing.T) {
	challenge := base64.StdEncoding.EncodeToString([]byte(`{"status":"401","schemes":"bearer"}`))
	for _, tc := range []struct {
		mech  string
		abort string
	}{{"XOAUTH2", ""}, {"OAUTHBEARER", "AQ=="}} {
		t.Run(tc.mech, func(t *testing.T) {
			tok := "ya29.SECRET-token"
			script := "+OK ready\r\n+OK\r\nSASL " + tc.mech + "\r\n.\r\n+ " + challenge + "\r\n-ERR [AUTH] Authentication failed.\r\n"
			f := &pop3Fake{r: strings.NewReader(script)}
			a := withTokenFile(t, pop3FakeAccount(accounts.None), tok)
			o := pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) { return f, nil })
			_, err := NewPOP3(a, o).Check(context.Background(), Query{})
			pop3WantKind(t, err, KindAuth, "status 401")
			if strings.Contains(err.Error(), tok) {
				t.Fatalf("the error quotes the token: %v", err)
			}
			lines := strings.Split(f.written(), "\r\n")
			if len(lines) != 4 || !strings.HasPrefix(lines[1], "AUTH "+tc.mech+" ") || lines[2] != tc.abort || lines[3] != "" {
				t.Fatalf("wrote %q", f.written())
			}
		})
	}
}

// TestPOP3OAuthNoMechanism: a server whose CAPA lists SASL without an
// OAuth2 mechanism is a config error, before any token is sent.
func TestPOP3OAuthNoMechanism(t *testing.T) {
	f := &pop3Fake{r: strings.NewReader("+OK ready\r\n+OK\r\nSASL PLAIN\r\n.\r\n")}
	a := withTokenFile(t, pop3FakeAccount(accounts.None), "tok")
	o := pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) { return f, nil })
	_, err := NewPOP3(a, o).Check(context.Background(), Query{})
	pop3WantKind(t, err, KindConfig, "offers no OAuth2 login")
	if strings.Contains(f.written(), "AUTH") {
		t.Fatalf("wrote %q", f.written())
	}
}

// TestIMAPOAuthFailedAuthenticateClosesConnection: after an error
// challenge the client does not leave the command hanging: it closes the
// connection, and the check is KindAuth quoting the challenge's status.
func TestIMAPOAuthFailedAuthenticateClosesConnection(t *testing.T) {
	closed := make(chan string, 1)
	tok := "ya29.SECRET-token"
	addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER] fake\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, _ := br.ReadString('\n')
		f := strings.Fields(line)
		if len(f) != 4 || f[1] != "AUTHENTICATE" || f[2] != "OAUTHBEARER" {
			closed <- "unexpected " + line
			return
		}
		io.WriteString(c, "+ "+base64.StdEncoding.EncodeToString([]byte(`{"status":"invalid_token","scope":"mail"}`))+"\r\n")
		rest, err := br.ReadString('\n')
		if err == io.EOF && rest == "" {
			closed <- "closed"
			return
		}
		closed <- "read " + rest + " " + err.Error()
	})
	a := withTokenFile(t, imapFakeAccount(addr, accounts.None), tok)
	_, err := NewIMAP(a, &Options{Timeout: 5 * time.Second}).Check(context.Background(), Query{})
	if KindOf(err) != KindAuth || !strings.Contains(err.Error(), "status invalid_token") || strings.Contains(err.Error(), tok) {
		t.Fatalf("check = %v (kind %s)", err, KindOf(err))
	}
	select {
	case got := <-closed:
		if got != "closed" {
			t.Fatalf("server saw: %s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the connection stayed open after the failed AUTHENTICATE")
	}
}

// TestOAuthTokenEndpointHangs: a token endpoint that does not answer is a
// KindNetwork error within the source's deadline, and no connection to the
// mail server is opened without a token.
func TestOAuthTokenEndpointHangs(t *testing.T) {
	as := testenv.StartOAuthServer(t)
	for _, proto := range []accounts.Protocol{accounts.IMAP, accounts.POP3} {
		t.Run(string(proto), func(t *testing.T) {
			a := accounts.Account{Name: "slow", Protocol: proto, Host: "127.0.0.1", Port: 1, Security: accounts.TLS, Username: "u",
				Auth: accounts.AuthOAuth2, OAuthProvider: accounts.ProviderCustom, OAuthClientID: as.ClientID,
				OAuthAuthURL: as.AuthURL(), OAuthTokenURL: as.TokenURL(), OAuthScopes: []string{"mail"}}.WithDefaults()
			f, err := oauth.NewFlow(a, "http://127.0.0.1:1"+oauth.CallbackPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			g, err := f.Finish(context.Background(), as.Consent(t, f.AuthCodeURL(), true).Query())
			if err != nil {
				t.Fatal(err)
			}
			src := g.Source(a, &oauth.SourceOptions{Timeout: 300 * time.Millisecond, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
			as.SetHang(true)
			defer as.SetHang(false)
			dialed := false
			o := &Options{OAuth: src, Timeout: time.Second, Dial: func(context.Context, string, string) (net.Conn, error) {
				dialed = true
				return nil, errors.New("no dial expected")
			}}
			err = testenv.Within(t, 10*time.Second, func() error { _, err := check(t, a, o); return err })
			if KindOf(err) != KindNetwork || !strings.Contains(err.Error(), "did not answer in time") || dialed {
				t.Fatalf("check = %v (kind %s, dialed %v), want KindNetwork without a dial", err, KindOf(err), dialed)
			}
		})
	}
}

// FuzzPOP3OAuthLogin feeds the AUTH exchange arbitrary server lines: no
// panic, no hang (the script ends), and no token in the error.
func FuzzPOP3OAuthLogin(f *testing.F) {
	for _, s := range []string{"+ \r\n+OK\r\n", "+ e30=\r\n-ERR no\r\n", "+ !!\r\n", "+\r\n+\r\n+\r\n", "-ERR [SYS/TEMP] later\r\n", "+ eyJzdGF0dXMiOiI0MDEifQ==\r\n+OK\r\n"} {
		f.Add(s)
	}
	const tok = "ya29.FUZZ-token"
	dir := f.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	a := pop3FakeAccount(accounts.None)
	a.Auth, a.OAuthCommand = accounts.AuthOAuth2, "cat '"+file+"'"
	f.Fuzz(func(t *testing.T, server string) {
		script := "+OK ready\r\n+OK\r\nSASL XOAUTH2\r\n.\r\n" + server
		fc := &pop3Fake{r: strings.NewReader(script)}
		o := pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) { return fc, nil })
		_, err := NewPOP3(a, o).Check(context.Background(), Query{})
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Fatalf("the error holds the token: %v", err)
		}
	})
}
