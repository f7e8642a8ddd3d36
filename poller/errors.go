package poller

import (
	"errors"
	"fmt"
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
