// Package selfsigned makes the self-signed certificates MailSneaker's own
// servers present: the demo servers (`mailsneaker demo`), the tests' fake
// servers and their private Dovecot. It is the one place that knows the
// recipe, so the demo and the tests cannot drift apart (a certificate the
// tests accept is one the demo serves).
package selfsigned

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Cert is a self-signed certificate for 127.0.0.1, ::1 and localhost,
// with its P-256 key.
type Cert struct {
	Server *tls.Config       // serves the certificate
	Pool   *x509.CertPool    // trusts it
	PEM    []byte            // the certificate, for a ca_file or ssl_cert
	KeyPEM []byte            // the private key (PKCS #8), for ssl_key
	X509   *x509.Certificate // the parsed certificate
	Key    *ecdsa.PrivateKey // the private key
}

// New makes a certificate named commonName, valid from notBefore to
// notAfter. It is its own CA, so Pool (or PEM as a ca_file) makes a client
// trust it.
func New(commonName string, notBefore, notAfter time.Time) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("selfsigned key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("selfsigned serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("selfsigned certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("selfsigned certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("selfsigned key: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &Cert{
		Server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}},
		Pool:   pool,
		PEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		X509:   cert,
		Key:    key,
	}, nil
}
