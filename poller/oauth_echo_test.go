package poller

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// TestIMAPOAuthRefusalEchoingCommandHidesToken: a server that quotes the
// AUTHENTICATE command in its NO (as some quote LOGIN) puts the base64
// initial response, which holds the token, into its text; the check's
// error must show neither the token nor that base64.
func TestIMAPOAuthRefusalEchoingCommandHidesToken(t *testing.T) {
	const tok = "ya29.ECHOED-secret-token"
	for _, mech := range []accounts.SASLMechanism{accounts.SASLXOAuth2, accounts.SASLOAuthBearer} {
		t.Run(string(mech), func(t *testing.T) {
			addr := imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
				io.WriteString(c, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER] fake\r\n")
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				line, _ := br.ReadString('\n')
				f := strings.Fields(line)
				if len(f) < 2 {
					return
				}
				io.WriteString(c, f[0]+" NO [AUTHENTICATIONFAILED] bad command: "+strings.TrimSpace(line)+"\r\n")
				br.ReadString('\n')
			})
			a := withTokenFile(t, imapFakeAccount(addr, accounts.None), tok)
			a.SASLMechanism = mech
			_, err := NewIMAP(a, &Options{Timeout: 5 * time.Second}).Check(context.Background(), Query{})
			if err == nil {
				t.Fatal("check passed")
			}
			msg := err.Error()
			for _, secret := range []string{tok, xoauth2IR(a.Username, tok), base64.StdEncoding.EncodeToString([]byte(tok))} {
				if strings.Contains(msg, secret) {
					t.Fatalf("the error shows the token: %s", msg)
				}
			}
			if strings.Contains(msg, "auth=Bearer") {
				t.Fatalf("the error shows the decoded initial response: %s", msg)
			}
			// Any long base64 word left in the error is the initial response.
			for _, w := range strings.Fields(msg) {
				if b, derr := base64.StdEncoding.DecodeString(strings.Trim(w, ".,;:()\"")); derr == nil && strings.Contains(string(b), tok) {
					t.Fatalf("the error holds the initial response: %s", msg)
				}
			}
		})
	}
}
