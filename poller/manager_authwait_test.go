package poller

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
)

// TestManagerLoginRefusalWaitsOrBacksOff runs the manager against scripted
// servers that refuse every login with one response code. A refusal that
// blames the credentials (wrong password, AUTHENTICATIONFAILED,
// AUTHORIZATIONFAILED, EXPIRED, POP3 [AUTH]) is not tried again until the
// user asks (Check now): retrying a wrong password can lock the account.
// A transient one (UNAVAILABLE, LIMIT, INUSE, IN-USE, SYS/TEMP) backs off
// and retries on its own.
func TestManagerLoginRefusalWaitsOrBacksOff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		proto accounts.Protocol
		reply string
		wait  bool // waits for the user
	}{
		{accounts.IMAP, "NO [AUTHENTICATIONFAILED] Authentication failed.", true},
		{accounts.IMAP, "NO Login failed.", true},
		{accounts.IMAP, "NO [AUTHORIZATIONFAILED] Not allowed", true},
		{accounts.IMAP, "NO [EXPIRED] Password expired", true},
		{accounts.IMAP, "NO [UNAVAILABLE] Try later", false},
		{accounts.IMAP, "NO [LIMIT] Too many connections", false},
		{accounts.IMAP, "NO [INUSE] Mailbox locked", false},
		{accounts.POP3, "-ERR [AUTH] Authentication failed.", true},
		{accounts.POP3, "-ERR Authentication failed.", true},
		{accounts.POP3, "-ERR [IN-USE] Mailbox locked", false},
		{accounts.POP3, "-ERR [SYS/TEMP] Disk full", false},
	} {
		t.Run(string(tc.proto)+" "+tc.reply, func(t *testing.T) {
			t.Parallel()
			var logins atomic.Int32
			var addr string
			if tc.proto == accounts.IMAP {
				addr = imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
					io.WriteString(c, "* OK [CAPABILITY IMAP4rev1] fake\r\n")
					imapAnswer(c, br, nil, func(tag, cmd string) string {
						if cmd == "LOGIN" {
							logins.Add(1)
							return tag + " " + tc.reply + "\r\n"
						}
						return tag + " OK fine\r\n"
					})
				})
			} else {
				addr = imapFakeServer(t, func(c net.Conn, br *bufio.Reader) {
					io.WriteString(c, "+OK fake\r\n")
					for {
						line, err := br.ReadString('\n')
						if err != nil {
							return
						}
						switch cmd, _, _ := strings.Cut(strings.TrimSpace(line), " "); strings.ToUpper(cmd) {
						case "CAPA":
							io.WriteString(c, "+OK\r\nUSER\r\n.\r\n")
						case "USER":
							io.WriteString(c, "+OK\r\n")
						case "PASS":
							logins.Add(1)
							io.WriteString(c, tc.reply+"\r\n")
						case "QUIT":
							io.WriteString(c, "+OK\r\n")
							return
						default:
							io.WriteString(c, "-ERR unknown\r\n")
						}
					}
				})
			}
			a := imapFakeAccount(addr, accounts.None)
			a.Protocol = tc.proto
			a.PollInterval = time.Hour
			a = a.WithDefaults()
			opts := func(accounts.Account) *Options { return imapOptions(nil, "secret") }
			store := mustOpenStore(t, t.TempDir())
			m, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: store,
				CheckerOptions: opts, BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond})
			defer stop()
			failed := func(s Snapshot) bool { return len(s.Accounts) == 1 && s.Accounts[0].State == StateError }
			first := waitSnap(t, sub, "the refusal", failed)
			if !tc.wait {
				if first.Accounts[0].Retry.IsZero() {
					t.Errorf("a transient refusal plans no retry: %v", first.Accounts[0].Err)
				}
				testenv.Eventually(t, 10*time.Second, func() bool { return logins.Load() >= 3 },
					"a transient refusal is retried on its own (%d logins)", logins.Load())
				return
			}
			if r := first.Accounts[0].Retry; !r.IsZero() {
				t.Errorf("a refusal of the credentials plans a retry at %v: %v", r, first.Accounts[0].Err)
			}
			if k := first.Accounts[0].Err.Kind; k != KindAuth {
				t.Errorf("kind %v, want auth", k)
			}
			// Check now tries once more, and only once.
			if err := m.CheckNow(a.Name); err != nil {
				t.Fatal(err)
			}
			waitSnap(t, sub, "the second refusal", func(s Snapshot) bool {
				return failed(s) && s.Accounts[0].Failed.After(first.Accounts[0].Failed)
			})
			if n := logins.Load(); n != 2 {
				t.Errorf("%d logins after one Check now, want 2 (backoff = 1 ms would have made many)", n)
			}
		})
	}
}
