package poller

import (
	"context"
	"net"
	"strings"
	"testing"

	"mailsneaker/accounts"
)

// TestResolveErrors: a host name that does not resolve is a network error
// that says "cannot resolve HOST" — and, when no name server answered (the
// network is gone), does not blame the host name.
func TestResolveErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dnsErr    *net.DNSError
		want, not string
	}{
		{"no such host", &net.DNSError{Err: "no such host", Name: "mail.example.com", IsNotFound: true},
			"cannot resolve mail.example.com: no such host; check the host name", "offline"},
		{"no answer", &net.DNSError{Err: "read udp 127.0.0.1:5353->127.0.0.1:53: connection refused", Name: "mail.example.com", IsTemporary: true},
			"cannot resolve mail.example.com: no answer from the name server; are you offline?", "check the host name"},
		{"timeout", &net.DNSError{Err: "i/o timeout", Name: "mail.example.com", IsTimeout: true},
			"cannot resolve mail.example.com: no answer from the name server; are you offline?", "check the host name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := accounts.Account{Name: "a", Protocol: accounts.IMAP, Host: "mail.example.com", Port: 993, Username: "u"}.WithDefaults()
			o := &Options{Password: func(context.Context) (string, error) { return "pw", nil }, Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: network, Err: tc.dnsErr}
			}}
			_, err := NewIMAP(a, o).Check(context.Background(), Query{Want: func(string) bool { return true }})
			if KindOf(err) != KindNetwork {
				t.Errorf("kind %v, want network: %v", KindOf(err), err)
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.(*CheckError).Msg, tc.not) {
				t.Errorf("error %q, want it to start %q and not to say %q", err, tc.want, tc.not)
			}
		})
	}
}
