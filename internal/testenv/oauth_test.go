//go:build unix

package testenv

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// TestDovecotOAuthTakesTheServersTokens holds the two fakes together: a
// token of the OAuth server logs in with XOAUTH2, an expired one and one
// signed with another key do not.
func TestDovecotOAuthTakesTheServersTokens(t *testing.T) {
	as := StartOAuthServer(t)
	d := StartDovecotOAuth(t, as.Key)
	user, _ := d.AddUser(t)
	other := StartOAuthServer(t)
	for _, tc := range []struct {
		name, token string
		ok          bool
	}{
		{"valid", as.AccessToken(user, time.Hour), true},
		{"expired", as.AccessToken(user, -time.Minute), false},
		{"other key", other.AccessToken(user, time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", d.Addr(d.IMAPS), d.TLSConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(c)
			if _, err := r.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
			ir := base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + tc.token + "\x01\x01"))
			if _, err := c.Write([]byte("a AUTHENTICATE XOAUTH2 " + ir + "\r\n")); err != nil {
				t.Fatal(err)
			}
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(line, "+") { // the error challenge: answer empty
					c.Write([]byte("\r\n"))
					continue
				}
				if strings.HasPrefix(line, "a ") {
					if got := strings.HasPrefix(line, "a OK"); got != tc.ok {
						t.Fatalf("reply %q, want OK %v", line, tc.ok)
					}
					return
				}
			}
		})
	}
}
