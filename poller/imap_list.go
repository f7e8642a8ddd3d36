package poller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
)

// maxListedFolders caps the folder list a server may send us; a setup form
// with more checkboxes than this is of no use anyway.
const maxListedFolders = 2000

// ListFolders does I/O: it logs in to an IMAP account, sends LIST "" "*"
// (RFC 9051 §6.3.9) and logs out. It changes nothing on the server. The
// result holds every selectable folder, INBOX first, the rest sorted.
// Errors are *CheckError values, as from a check.
func ListFolders(ctx context.Context, a accounts.Account, o *Options) ([]string, error) {
	if a.Protocol != accounts.IMAP {
		return nil, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("account %q is not an imap account: only imap has folders", a.Name)}
	}
	a = a.WithDefaults()
	s, err := imapDial(ctx, a, o, nil, false)
	if err != nil {
		return nil, err
	}
	defer s.logout()
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()

	cmd := s.c.List("", "*", nil)
	var names []string
	seen := map[string]bool{}
	for {
		d := cmd.Next()
		if d == nil {
			break
		}
		if len(names) >= maxListedFolders {
			continue // drain the rest
		}
		if slices.Contains(d.Attrs, imap.MailboxAttrNoSelect) || slices.Contains(d.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		name := d.Mailbox
		if strings.EqualFold(name, "INBOX") {
			name = "INBOX"
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	if err := cmd.Close(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, imapNetErr(a, "LIST", err)
	}
	slices.SortFunc(names, func(x, y string) int {
		switch {
		case x == y:
			return 0
		case x == "INBOX":
			return -1
		case y == "INBOX":
			return 1
		}
		return strings.Compare(x, y)
	})
	return names, nil
}
