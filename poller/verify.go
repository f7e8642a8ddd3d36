package poller

import (
	"context"

	"mailsneaker/accounts"
)

// Verify logs in to a's server and runs one check, as `account add` and the
// setup page do before saving an account. It changes nothing on the server.
func Verify(ctx context.Context, a accounts.Account, o *Options) (*Inbox, error) {
	c := newChecker(a, o)
	defer c.Close()
	return c.Check(ctx, Query{Want: func(string) bool { return false }})
}

// newChecker is the checker of a's protocol: NewPOP3 or NewIMAP.
func newChecker(a accounts.Account, o *Options) Checker {
	if a.Protocol == accounts.POP3 {
		return NewPOP3(a, o)
	}
	return NewIMAP(a, o)
}
