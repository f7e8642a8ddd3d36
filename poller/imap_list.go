package poller

import (
	"context"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailsneaker/accounts"
)

// maxListedFolders caps the folder list a server may send us; a setup form
// with more checkboxes than this is of no use anyway.
const maxListedFolders = 2000

// readList reads cmd's LIST reply to its end and closes it. It keeps the
// first maxListedFolders folders and reads the rest only to drop them,
// so that the connection stays in step. When st is not nil it also
// stores there the status that came with a kept folder (LIST-STATUS).
func readList(cmd *imapclient.ListCommand, st map[string]imapStatus) ([]imapListed, error) {
	var listed []imapListed
	for {
		d := cmd.Next()
		if d == nil {
			break
		}
		if len(listed) >= maxListedFolders {
			continue // drain the rest
		}
		listed = append(listed, imapListed{name: d.Mailbox, delim: d.Delim, attrs: d.Attrs})
		if v, ok := imapStatusOf(d.Status); ok && st != nil {
			st[imapFolderName(d.Mailbox)] = v
		}
	}
	return listed, cmd.Close()
}

// Folder is a folder of an IMAP account, as the setup page offers it.
type Folder struct {
	Name string
	// Special is a junk, trash, sent, drafts, all-mail or flagged folder
	// (by SPECIAL-USE, RFC 6154, or by name on a server that marks none):
	// folders = ["*"] leaves it out, and the setup page leaves it unticked.
	Special bool
}

// ListFolders does I/O: it logs in to an IMAP account, sends LIST "" "*"
// (RFC 9051 §6.3.9) and logs out. It changes nothing on the server. The
// result holds every selectable folder, INBOX first, the rest sorted.
// Errors are *CheckError values, as from a check.
func ListFolders(ctx context.Context, a accounts.Account, o *Options) ([]string, error) {
	fs, err := ListFolderInfo(ctx, a, o)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return names, nil
}

// ListFolderInfo is ListFolders that also tells which folders are special.
func ListFolderInfo(ctx context.Context, a accounts.Account, o *Options) ([]Folder, error) {
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

	var lopts *imap.ListOptions
	if s.caps.Has(imap.CapSpecialUse) {
		lopts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	listed, err := readList(s.c.List("", "*", lopts), nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, imapNetErr(a, "LIST", err)
	}
	return imapFolders(listed), nil
}

// imapFolders turns a LIST reply into the selectable folders, INBOX first,
// the rest sorted, each once, the special ones marked.
func imapFolders(listed []imapListed) []Folder {
	byName := imapMarksNone(listed)
	var out []Folder
	seen := map[string]bool{}
	for _, l := range listed {
		if imapUnselectable(l) {
			continue
		}
		name := imapFolderName(l.name)
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, Folder{Name: name, Special: imapSkip(l, byName)})
	}
	slices.SortFunc(out, func(x, y Folder) int { return imapFolderOrder(x.Name, y.Name) })
	return out
}
