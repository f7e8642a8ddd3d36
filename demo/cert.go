package demo

import (
	"crypto/tls"
	"time"

	"mailsneaker/internal/selfsigned"
)

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a
// day, and returns it as a server config and as PEM for the client's ca_file.
func selfSigned() (*tls.Config, []byte, error) {
	c, err := selfsigned.New("MailSneaker demo", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		return nil, nil, err
	}
	return c.Server, c.PEM, nil
}
