package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
)

// Server is where a throwaway mail server (Dovecot, GNU Mailutils) lives
// and how to reach it: its temp dir, its four ports on 127.0.0.1 and the
// certificate to trust.
type Server struct {
	Dir     string
	CAFile  string         // PEM of the self-signed server certificate (SAN 127.0.0.1, localhost)
	RootCAs *x509.CertPool // CAFile as a pool
	IMAP    int            // IMAP with STARTTLS
	IMAPS   int            // IMAP over implicit TLS
	POP3    int            // POP3 with STLS
	POP3S   int            // POP3 over implicit TLS
}

// Addr is 127.0.0.1:port.
func (s *Server) Addr(port int) string { return loopback(port) }

// loopback is 127.0.0.1:port.
func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// TLSConfig trusts the server's certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs, ServerName: "127.0.0.1"}
}
