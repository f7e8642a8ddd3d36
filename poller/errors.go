package poller

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
)

// ErrorKind says what went wrong with an account, for the UI.
type ErrorKind int

// Kinds of account error.
const (
	KindNetwork  ErrorKind = iota + 1 // DNS, refused, unreachable, timeout
	KindTLS                           // certificate or handshake; STARTTLS not offered
	KindAuth                          // login refused
	KindProtocol                      // the server said something we cannot use
	KindConfig                        // the account's settings or password source
	KindSignIn                        // oauth2: the sign-in expired or was revoked; "Sign in again", no retry until the user does
)

func (k ErrorKind) String() string {
	switch k {
	case KindNetwork:
		return "network"
	case KindTLS:
		return "tls"
	case KindAuth:
		return "auth"
	case KindProtocol:
		return "protocol"
	case KindConfig:
		return "config"
	case KindSignIn:
		return "signin"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// CheckError is the error every checker returns: a kind for the UI, a short
// message in plain words that says what to do, and the cause.
type CheckError struct {
	Kind ErrorKind
	Msg  string // "login refused by imap.example.com: check the password (stored in the keychain)"
	Err  error
}

func (e *CheckError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *CheckError) Unwrap() error { return e.Err }

// KindOf returns the kind of err, or KindProtocol when err carries none.
func KindOf(err error) ErrorKind {
	var ce *CheckError
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return KindProtocol
}

// ServerReply is a server's answer in its own words (a POP3 -ERR line), as
// the cause of a CheckError; IMAP's are *imap.Error.
type ServerReply struct{ Text string }

func (r *ServerReply) Error() string { return r.Text }

// Said is what the server answered in its own words ("Authentication
// failed."), or "" when the error did not come from the server's mouth.
// It is the server's text: show it as such, never as ours.
func (e *CheckError) Said() string {
	var ie *imap.Error
	if errors.As(e.Err, &ie) {
		if t := strings.TrimSpace(ie.Text); t != "" {
			return t
		}
		return string(ie.Code)
	}
	var r *ServerReply
	if errors.As(e.Err, &r) {
		t := strings.TrimSpace(r.Text)
		// go-pop3 keeps the status word; the user needs the words after it.
		for _, p := range []string{"-ERR ", "-ERR", "+OK "} {
			t = strings.TrimSpace(strings.TrimPrefix(t, p))
		}
		return t
	}
	return ""
}

// PasswordMissing reports whether the keychain holds no password for the
// account: the fix is to type one, as after a refused login.
func (e *CheckError) PasswordMissing() bool {
	var ke *accounts.KeychainError
	return errors.As(e.Err, &ke) && ke.Kind == accounts.ErrNoPassword
}

// TooManyConnections reports whether the server turned the account away
// because it holds too many connections already (IMAP [LIMIT], Dovecot's
// mail_max_userip_connections and the like): waiting, or closing another
// client, helps; the password does not.
func (e *CheckError) TooManyConnections() bool {
	var ie *imap.Error
	if errors.As(e.Err, &ie) && ie.Code == imap.ResponseCodeLimit {
		return true
	}
	if e.Err == nil {
		return false
	}
	// The cause only: Msg is our own words.
	s := strings.ToLower(e.Err.Error())
	return strings.Contains(s, "too many connections") || strings.Contains(s, "maximum number of connections") ||
		strings.Contains(s, "[in-use]") || strings.Contains(s, "[limit]")
}

// Certificate is the server certificate that failed verification, or nil
// when the error is not about a certificate (a refused handshake, STARTTLS
// not offered). It is what the server sent, unverified: show its
// fingerprint so that the user can compare it, never trust it for them.
func (e *CheckError) Certificate() *x509.Certificate {
	var cve *tls.CertificateVerificationError
	if errors.As(e.Err, &cve) && len(cve.UnverifiedCertificates) > 0 {
		return cve.UnverifiedCertificates[0]
	}
	var ua x509.UnknownAuthorityError
	if errors.As(e.Err, &ua) && ua.Cert != nil {
		return ua.Cert
	}
	var he x509.HostnameError
	if errors.As(e.Err, &he) && he.Certificate != nil {
		return he.Certificate
	}
	var ci x509.CertificateInvalidError
	if errors.As(e.Err, &ci) && ci.Cert != nil {
		return ci.Cert
	}
	return nil
}
