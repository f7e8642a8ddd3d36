package poller

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
	"mailsneaker/internal/testenv"
	"mailsneaker/pop3d"
	"mailsneaker/seen"
)

// hangProxy forwards TCP to target until it hangs: then it keeps every
// connection open and forwards nothing, as a server that stopped answering
// or a NAT that stopped forwarding. resume ends the hanging connections and
// forwards new ones again.
type hangProxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	// hang decides, for each chunk, how much of it still passes (n) and
	// whether the connection hangs after it; nil passes everything.
	hang  atomic.Pointer[func(toClient bool, sent string, chunk []byte) (n int, hang bool)]
	all   atomic.Bool // every connection hangs
	mu    sync.Mutex
	conns []*hangConn
	wg    sync.WaitGroup
}

type hangConn struct {
	client, server net.Conn
	hung           atomic.Bool
	mu             sync.Mutex
	sent           bytes.Buffer // what the client sent (plain-text protocols)
}

func startHangProxy(t *testing.T, target string) *hangProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &hangProxy{t: t, ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.closeConns(func(*hangConn) bool { return true })
		p.wg.Wait()
	})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			hc := &hangConn{client: c, server: s}
			p.mu.Lock()
			p.conns = append(p.conns, hc)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pump(hc, s, c, true)
			go p.pump(hc, c, s, false)
		}
	}()
	return p
}

func (p *hangProxy) pump(hc *hangConn, src, dst net.Conn, toClient bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			if !hc.hung.Load() {
				hc.client.Close()
				hc.server.Close()
			}
			return
		}
		chunk := buf[:n]
		if !toClient {
			hc.mu.Lock()
			hc.sent.Write(chunk)
			hc.mu.Unlock()
		}
		if p.all.Load() {
			hc.hung.Store(true)
		}
		if hc.hung.Load() {
			continue // swallowed
		}
		if h := p.hang.Load(); h != nil {
			hc.mu.Lock()
			sent := hc.sent.String()
			hc.mu.Unlock()
			pass, hang := (*h)(toClient, sent, chunk)
			chunk = chunk[:pass]
			if hang {
				hc.hung.Store(true)
			}
		}
		if _, err := dst.Write(chunk); err != nil {
			return
		}
	}
}

func (p *hangProxy) closeConns(which func(*hangConn) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, hc := range p.conns {
		if which(hc) {
			hc.client.Close()
			hc.server.Close()
		}
	}
}

func (p *hangProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// resume forwards again: hanging connections are dropped (as a restarted
// proxy would), new ones pass.
func (p *hangProxy) resume() {
	p.hang.Store(nil)
	p.all.Store(false)
	p.closeConns(func(hc *hangConn) bool { return hc.hung.Load() })
}

func (p *hangProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// TestHangsWithDefaultTimeouts: servers that accept and then never answer —
// at the greeting, after login, in the middle of UIDL, and an IDLE link that
// goes silent — each make their account report an error within 60 s with
// the default timeouts, while a healthy account keeps counting; when the
// servers answer again every account returns to StateOK. The accounts run
// side by side in one Manager, so the test costs one timeout, not four.
func TestHangsWithDefaultTimeouts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for the default timeouts (~1 min)")
	}
	d := testenv.StartDovecot(t)
	duser, dpw := d.AddUser(t)
	imapAddr := startIMAPMem(t, imap.CapIdle).addr
	pop := &pop3d.Server{}
	pop.AddUser("carol", "pw")
	for i := range 3 {
		pop.Deliver("carol", testenv.Message("A <a@example.com>", "m"+strconv.Itoa(i), "x"))
	}
	popAddr := "127.0.0.1:" + strconv.Itoa(pop3StartServer(t, pop, nil))
	healthySrv := &pop3d.Server{}
	healthySrv.AddUser("dan", "pw")
	healthyPort := pop3StartServer(t, healthySrv, nil)

	contains := func(s, w string) bool { return bytes.Contains([]byte(s), []byte(w)) }
	type hangCase struct {
		name  string
		proxy *hangProxy
		acct  accounts.Account
	}
	plain := func(name string, proto accounts.Protocol, p *hangProxy, user string) accounts.Account {
		return accounts.Account{Name: name, Protocol: proto, Host: "127.0.0.1", Port: p.port(), Security: accounts.None,
			Username: user, PollInterval: time.Hour}.WithDefaults()
	}
	greetIMAP := startHangProxy(t, imapAddr)
	greetIMAP.all.Store(true)
	loginIMAP := startHangProxy(t, imapAddr)
	afterLogin := func(toClient bool, sent string, chunk []byte) (int, bool) {
		if contains(sent, " STATUS ") || contains(sent, " SELECT ") || contains(sent, " EXAMINE ") {
			return 0, true
		}
		return len(chunk), false
	}
	loginIMAP.hang.Store(&afterLogin)
	greetPOP := startHangProxy(t, popAddr)
	greetPOP.all.Store(true)
	uidlPOP := startHangProxy(t, popAddr)
	midUIDL := func(toClient bool, sent string, chunk []byte) (int, bool) {
		if toClient && contains(sent, "UIDL") {
			return min(len(chunk), 12), true // "+OK\r\n1 0000…" and no more
		}
		return len(chunk), false
	}
	uidlPOP.hang.Store(&midUIDL)
	idleProxy := startHangProxy(t, d.Addr(d.IMAPS))
	idleAcct := accounts.Account{Name: "idle", Protocol: accounts.IMAP, Host: "127.0.0.1", Port: idleProxy.port(),
		Security: accounts.TLS, Username: duser, PollInterval: time.Hour}.WithDefaults()

	cases := []hangCase{
		{"imap greeting", greetIMAP, plain("imap greeting", accounts.IMAP, greetIMAP, "alice")},
		{"imap after login", loginIMAP, plain("imap after login", accounts.IMAP, loginIMAP, "alice")},
		{"pop3 greeting", greetPOP, plain("pop3 greeting", accounts.POP3, greetPOP, "carol")},
		{"pop3 mid-UIDL", uidlPOP, plain("pop3 mid-UIDL", accounts.POP3, uidlPOP, "carol")},
		{"idle", idleProxy, idleAcct},
	}
	healthy := accounts.Account{Name: "healthy", Protocol: accounts.POP3, Host: "127.0.0.1", Port: healthyPort,
		Security: accounts.None, Username: "dan", PollInterval: time.Hour}.WithDefaults()
	accts := []accounts.Account{healthy}
	for _, c := range cases {
		accts = append(accts, c.acct)
	}
	pws := map[string]string{"alice": "secret", "carol": "pw", "dan": "pw", duser: dpw}
	store, err := seen.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m, sub, stop := startManager(t, ManagerOptions{Accounts: accts, Store: store,
		BackoffMin: time.Second, BackoffMax: 2 * time.Second,
		CheckerOptions: func(a accounts.Account) *Options {
			// Timeout 0: DefaultTimeout, as in the app.
			return &Options{RootCAs: d.RootCAs, Password: func(context.Context) (string, error) { return pws[a.Username], nil }}
		}})
	acct := func(s Snapshot, name string) AccountSnapshot {
		for _, a := range s.Accounts {
			if a.Name == name {
				return a
			}
		}
		t.Fatalf("no account %q", name)
		return AccountSnapshot{}
	}

	// The IDLE account first works; then its link goes silent.
	waitSnap(t, sub, "idle account checked", func(s Snapshot) bool { return acct(s, "idle").State == StateOK })
	waitFor(t, "the IDLE connection", func() bool { return idleProxy.count() >= 2 })
	idleProxy.all.Store(true)
	frozen := map[string]time.Time{"idle": time.Now()}
	for _, c := range cases[:4] {
		frozen[c.name] = start
	}

	reported := map[string]time.Duration{}
	healthyNew := 0
	testenv.Eventually(t, 90*time.Second, func() bool {
		for len(reported) < len(cases) {
			select {
			case s := <-sub:
				if h := acct(s, "healthy"); h.State == StateError {
					t.Fatalf("the healthy account failed: %v", h.Err)
				}
				for _, c := range cases {
					a := acct(s, c.name)
					if _, done := reported[c.name]; !done && a.State == StateError && a.Err != nil {
						reported[c.name] = time.Since(frozen[c.name])
						t.Logf("%s: %q after %s", c.name, a.Err.Error(), reported[c.name].Round(time.Second))
						// Meanwhile the healthy account goes on.
						healthySrv.Deliver("dan", testenv.Message("New <n@example.com>", "n", "x"))
						healthyNew++
						m.CheckNow("healthy")
					}
				}
			default:
				return false
			}
		}
		return true
	}, "every frozen account to report an error (so far %v)", reported)
	for name, took := range reported {
		if took > 60*time.Second {
			t.Errorf("%s reported its error after %s, want ≤ 60 s", name, took.Round(time.Second))
		}
	}
	waitSnap(t, sub, "healthy counted every delivery", newCount("healthy", healthyNew))

	for _, c := range cases {
		c.proxy.resume()
	}
	m.CheckNow("")
	waitSnap(t, sub, "every account recovered", func(s Snapshot) bool {
		for _, a := range s.Accounts {
			if a.State != StateOK {
				return false
			}
		}
		return true
	})
	stop()
	_ = io.Discard
}
