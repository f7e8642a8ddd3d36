package poller

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// pop3CapaDelay is a CAPA reply like Cyrus's with popminpoll: 5 (minutes).
const pop3CapaDelay = "+OK\r\nTOP\r\nUSER\r\nUIDL\r\nLOGIN-DELAY 300\r\n.\r\n"

// waitRecorder is a POP3 checker whose Wait reports the wait it was given
// and then blocks: the manager's next check never comes in the test.
type waitRecorder struct {
	*pop3Checker
	waits chan time.Duration
}

func (w *waitRecorder) Wait(ctx context.Context, d time.Duration) error {
	w.waits <- d
	<-ctx.Done()
	return ctx.Err()
}

// pop3DelayManager runs a manager over one POP3 account with a 60 s
// poll_interval whose server says script.
func pop3DelayManager(t *testing.T, script string) (<-chan Snapshot, *waitRecorder, *pop3Fake, func()) {
	t.Helper()
	f := &pop3Fake{r: strings.NewReader(script)}
	a := pop3FakeAccount(accounts.None)
	a.PollInterval = time.Minute
	a = a.WithDefaults()
	w := &waitRecorder{waits: make(chan time.Duration, 1)}
	w.pop3Checker = NewPOP3(a, pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) { return f, nil })).(*pop3Checker)
	_, sub, stop := startManager(t, ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(accounts.Account) Checker { return w }, BackoffMin: time.Millisecond, BackoffMax: time.Millisecond})
	return sub, w, f, stop
}

// TestPOP3LoginDelayRaisesPollInterval: CAPA LOGIN-DELAY 300 raises a 60 s
// poll_interval to 300 s (RFC 2449 section 6.8).
func TestPOP3LoginDelayRaisesPollInterval(t *testing.T) {
	script := "+OK hello\r\n" + pop3CapaDelay + "+OK\r\n+OK logged in\r\n+OK\r\n1 aaa\r\n.\r\n+OK bye\r\n"
	sub, w, f, stop := pop3DelayManager(t, script)
	defer stop()
	waitSnap(t, sub, "the check", func(s Snapshot) bool { return s.Accounts[0].State == StateOK })
	select {
	case d := <-w.waits:
		if d < 300*time.Second {
			t.Errorf("the manager waits %s after the check, want at least the server's LOGIN-DELAY 300s", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the manager did not wait after the check")
	}
	if want := "CAPA\r\n" + pop3Login + "UIDL\r\nQUIT\r\n"; f.written() != want {
		t.Errorf("client wrote\n%q\nwant\n%q", f.written(), want)
	}
}

// TestPOP3LoginDelayRefused: a login refused with [LOGIN-DELAY] is retried
// no sooner than the CAPA LOGIN-DELAY allows, and the error says when.
func TestPOP3LoginDelayRefused(t *testing.T) {
	script := "+OK hello\r\n" + pop3CapaDelay + "+OK\r\n-ERR [LOGIN-DELAY] minimum time between logins not elapsed\r\n"
	sub, _, _, stop := pop3DelayManager(t, script)
	defer stop()
	s := waitSnap(t, sub, "the refusal", func(s Snapshot) bool { return s.Accounts[0].State == StateError })
	as := s.Accounts[0]
	if got := as.Retry.Sub(as.Failed); got < 300*time.Second {
		t.Errorf("next try %s after the refusal, want at least the server's LOGIN-DELAY 300s", got)
	}
	if msg := as.Err.Msg; !strings.Contains(msg, "allows one login every 300 s; try again after ") {
		t.Errorf("error %q does not say when the next login is allowed", msg)
	}
}

// TestPOP3LoginDelayWithoutCAPA: a refusal without a CAPA LOGIN-DELAY says
// what it can, and a server that refuses CAPA sets no minimum.
func TestPOP3LoginDelayWithoutCAPA(t *testing.T) {
	f := &pop3Fake{r: strings.NewReader("+OK\r\n-ERR unknown command\r\n+OK\r\n-ERR [LOGIN-DELAY] wait\r\n")}
	c := NewPOP3(pop3FakeAccount(accounts.None), pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) { return f, nil })).(*pop3Checker)
	_, err := c.Check(context.Background(), Query{})
	pop3WantKind(t, err, KindProtocol, "LOGIN-DELAY")
	if c.MinPollInterval() != 0 {
		t.Errorf("MinPollInterval %s without a CAPA LOGIN-DELAY", c.MinPollInterval())
	}
	if want := "CAPA\r\n" + pop3Login; f.written() != want {
		t.Errorf("client wrote %q, want %q", f.written(), want)
	}
}

func TestParseLoginDelay(t *testing.T) {
	for _, tc := range []struct {
		capa string
		want time.Duration
	}{
		{"TOP\r\nLOGIN-DELAY 300\r\n", 300 * time.Second},
		{"login-delay 60 USER\r\n", time.Minute},
		{"TOP\r\nUIDL\r\n", 0},
		{"LOGIN-DELAY\r\n", 0},
		{"LOGIN-DELAY -5\r\n", 0},
		{"LOGIN-DELAY soon\r\n", 0},
		{"LOGIN-DELAY 99999999\r\n", maxLoginDelay},
		{"LOGIN-DELAY 99999999999999999999\r\n", 0},
		{"LOGIN-DELAYED 300\r\n", 0},
	} {
		if got := parseLoginDelay([]byte(tc.capa)); got != tc.want {
			t.Errorf("parseLoginDelay(%q) = %s, want %s", tc.capa, got, tc.want)
		}
	}
}

// TestPOP3LoginDelayCheckOnce: the CLI's one-shot check inside the delay
// says when the next login is allowed.
func TestPOP3LoginDelayCheckOnce(t *testing.T) {
	f := &pop3Fake{r: strings.NewReader("+OK hello\r\n" + pop3CapaDelay + "+OK\r\n-ERR [LOGIN-DELAY] wait\r\n")}
	a := pop3FakeAccount(accounts.None).WithDefaults()
	m := NewManager(ManagerOptions{Accounts: []accounts.Account{a}, Store: mustOpenStore(t, t.TempDir()),
		NewChecker: func(a accounts.Account) Checker {
			return NewPOP3(a, pop3FakeOptions(func(context.Context, string, string) (net.Conn, error) { return f, nil }))
		}})
	s := m.CheckOnce(context.Background())
	if len(s.Accounts) != 1 || s.Accounts[0].Err == nil {
		t.Fatalf("snapshot %+v, want the account's error", s)
	}
	if msg := s.Accounts[0].Err.Msg; !strings.Contains(msg, "the server allows one login every 300 s; try again after ") {
		t.Errorf("error %q does not say when the next login is allowed", msg)
	}
}
