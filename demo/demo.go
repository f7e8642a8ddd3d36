// Package demo runs MailSneaker's built-in demo: an IMAP and a POP3 server on
// loopback with mail arriving every few seconds, and the two accounts that
// watch them. It needs no keychain and no outside server.
package demo

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"mailsneaker/accounts"
	"mailsneaker/pop3d"
)

const (
	user     = "demo"
	password = "demo-password"
)

// Demo is a running pair of demo servers.
type Demo struct {
	// Accounts watch the demo servers: "demo-imap" and "demo-pop3".
	Accounts []accounts.Account
	// Every is the time between two events; 0 means a random 3–6 s.
	Every time.Duration

	log      *slog.Logger
	rnd      *rand.Rand
	n        int
	imapUser *imapmemserver.User
	imapSrv  *imapserver.Server
	imapAddr string
	pop      *pop3d.Server
	roots    *x509.CertPool
	lns      []net.Listener
	trouble  bool // AddTrouble ran
}

// Start starts both servers on 127.0.0.1 with a fresh self-signed
// certificate, written to dir/ca.pem for the accounts' ca_file, and puts a
// few mails in each mailbox.
func Start(dir string, log *slog.Logger) (*Demo, error) {
	tlsCfg, caPEM, err := selfSigned()
	if err != nil {
		return nil, fmt.Errorf("demo certificate: %w", err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		return nil, err
	}
	d := &Demo{log: log, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)), roots: x509.NewCertPool()}
	d.roots.AppendCertsFromPEM(caPEM)

	mem := imapmemserver.New()
	d.imapUser = imapmemserver.NewUser(user, password)
	if err := d.imapUser.Create("INBOX", nil); err != nil {
		return nil, err
	}
	mem.AddUser(d.imapUser)
	d.imapSrv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.CapIdle: {}, imap.CapESearch: {}},
		Logger: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	})
	imapLn, err := tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	if err != nil {
		return nil, err
	}
	d.lns = append(d.lns, imapLn)
	d.imapAddr = imapLn.Addr().String()
	go d.imapSrv.Serve(imapLn)

	d.pop = &pop3d.Server{}
	d.pop.AddUser(user, password)
	popLn, err := tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.lns = append(d.lns, popLn)
	go d.pop.Serve(popLn)

	for range 3 {
		d.deliverIMAP()
	}
	for range 2 {
		d.deliverPOP3()
	}
	d.Accounts = []accounts.Account{
		account("demo-imap", accounts.IMAP, imapLn.Addr(), caFile),
		account("demo-pop3", accounts.POP3, popLn.Addr(), caFile),
	}
	d.Accounts[1].CountExisting = true
	return d, nil
}

func account(name string, p accounts.Protocol, addr net.Addr, caFile string) accounts.Account {
	a := accounts.Account{
		Name: name, Protocol: p, Host: "127.0.0.1", Port: addr.(*net.TCPAddr).Port,
		Security: accounts.TLS, Username: user, CAFile: caFile, PollInterval: 30 * time.Second,
	}
	return a.WithDefaults()
}

// Password is the password of every demo account.
func (d *Demo) Password(context.Context) (string, error) { return password, nil }

// Run delivers a new mail every few seconds, alternating between the two
// servers, and now and then reads the oldest unread IMAP mail "elsewhere"
// so the count drops. It returns when ctx is done.
func (d *Demo) Run(ctx context.Context) error {
	for {
		every := d.Every
		if every <= 0 {
			every = time.Duration(3+d.rnd.IntN(4)) * time.Second
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		switch d.n % 5 {
		case 0, 2:
			d.deliverIMAP()
		case 1, 3:
			d.deliverPOP3()
		case 4:
			if err := d.readOldestIMAP(ctx); err != nil {
				d.log.Debug("demo: reading a mail elsewhere failed", "err", err)
			}
			d.n++
		}
	}
}

func (d *Demo) deliverIMAP() {
	d.n++
	msg := message(d.n, d.rnd)
	if _, err := d.imapUser.Append("INBOX", bytes.NewReader(msg), &imap.AppendOptions{Time: time.Now()}); err != nil {
		d.log.Warn("demo: append failed", "err", err)
	}
}

func (d *Demo) deliverPOP3() {
	d.n++
	d.pop.Deliver(user, message(d.n, d.rnd))
}

// readOldestIMAP flags the oldest unread IMAP mail \Seen, as another mail
// client would.
func (d *Demo) readOldestIMAP(ctx context.Context) error {
	c, err := imapclient.DialTLS(d.imapAddr, &imapclient.Options{TLSConfig: &tls.Config{RootCAs: d.roots, ServerName: "127.0.0.1"}})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(user, password).Wait(); err != nil {
		return err
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return err
	}
	res, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return err
	}
	uids := res.AllUIDs()
	if len(uids) == 0 {
		return nil
	}
	store := c.Store(imap.UIDSetNum(uids[0]), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil)
	if err := store.Close(); err != nil {
		return err
	}
	return c.Logout().Wait()
}

// Close stops both servers.
func (d *Demo) Close() {
	for _, ln := range d.lns {
		ln.Close()
	}
	if d.imapSrv != nil {
		d.imapSrv.Close()
	}
	if d.pop != nil {
		d.pop.Close()
	}
}
