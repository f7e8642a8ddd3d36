package poller

import (
	"strings"
	"testing"

	"mailsneaker/accounts"
)

// TestPOP3LoginResponseCodes: a refused PASS is explained by its response
// code (RFC 2449, RFC 3206); "check the password" only for [AUTH] or no code.
func TestPOP3LoginResponseCodes(t *testing.T) {
	for _, tc := range []struct {
		reply string
		kind  ErrorKind
		words string
	}{
		{"-ERR [AUTH] Authentication failed.", KindAuth, "check the password"},
		{"-ERR Authentication failed.", KindAuth, "check the password"},
		{"-ERR [IN-USE] Mailbox locked", KindProtocol, "in use by another session"},
		{"-ERR [LOGIN-DELAY] Wait 300 seconds", KindProtocol, "LOGIN-DELAY"},
		{"-ERR [SYS/TEMP] Disk full", KindNetwork, "temporary problem"},
		{"-ERR [SYS/PERM] Mailbox broken", KindProtocol, "ask its administrator"},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			_, _, err := pop3RunFake(t, accounts.None, strings.NewReader("+OK\r\n+OK\r\n"+tc.reply+"\r\n"), Query{})
			pop3WantKind(t, err, tc.kind, tc.words)
			if tc.words != "check the password" && strings.Contains(err.Error(), "check the password") {
				t.Errorf("error %q blames the password", err)
			}
		})
	}
}
