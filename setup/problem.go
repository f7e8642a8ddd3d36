package setup

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"strings"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// problemView is what went wrong with an account, as its page shows it:
// the full message the tray only hints at, and the certificate the server
// sent when that is what failed.
type problemView struct {
	Msg    string
	Detail string
	Cert   *certView
}

// certView describes a server certificate that was not trusted, so that
// the user can check it and trust it the one way there is: ca_file.
type certView struct {
	Subject   string
	Issuer    string
	Names     string // the names it is valid for
	NotBefore string
	NotAfter  string
	SHA256    string // "AB:CD:…", of the DER
	Self      bool   // self-signed: the certificate itself is what ca_file must hold
	Fetch     string // a command that prints the server's certificates
}

// problemOf describes ce for the page of account a; nil for no error.
func problemOf(a accounts.Account, ce *poller.CheckError) *problemView {
	if ce == nil {
		return nil
	}
	p := &problemView{Msg: upperFirst(ce.Msg)}
	if ce.Err != nil {
		p.Detail = ce.Err.Error()
	}
	if c := ce.Certificate(); c != nil {
		p.Cert = describeCert(a, c)
	}
	return p
}

func describeCert(a accounts.Account, c *x509.Certificate) *certView {
	sum := sha256.Sum256(c.Raw)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	v := &certView{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		Names:     strings.Join(c.DNSNames, ", "),
		NotBefore: c.NotBefore.UTC().Format("2006-01-02"),
		NotAfter:  c.NotAfter.UTC().Format("2006-01-02"),
		SHA256:    strings.Join(hexes, ":"),
		Self:      c.Subject.String() == c.Issuer.String(),
	}
	if v.Subject == "" {
		v.Subject = "(empty)"
	}
	if v.Issuer == "" {
		v.Issuer = "(empty)"
	}
	a = a.WithDefaults()
	if a.Host != "" {
		v.Fetch = "openssl s_client -showcerts -connect " + net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
		if a.Security == accounts.StartTLS {
			v.Fetch += " -starttls " + string(a.Protocol)
		}
		v.Fetch += " </dev/null"
	}
	return v
}

// noteProblem keeps what the last check of account name said (nil: it went
// well) for the account's edit page.
func (s *Server) noteProblem(name string, e *poller.CheckError) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if e == nil {
		delete(s.problems, name)
		return
	}
	s.problems[name] = e
}

// problem is the noted problem of account name, or nil.
func (s *Server) problem(name string) *poller.CheckError {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return s.problems[name]
}
