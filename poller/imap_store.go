package poller

import (
	"context"
	"fmt"
	"sort"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
)

// MarkSeenOnServer does I/O, and it is the one place where MailSneaker
// changes a mailbox, only when the user asks: it sets \Seen (RFC 9051
// §6.4.6, UID STORE +FLAGS.SILENT) on exactly the IMAP mails in ids, in a
// short read-write session per account. A folder whose UIDVALIDITY no longer
// matches the ids is skipped: its UIDs may name other mails now. It returns
// how many mails it flagged.
func MarkSeenOnServer(ctx context.Context, a accounts.Account, o *Options, ids []string) (int, error) {
	if a.Protocol != accounts.IMAP {
		return 0, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("account %q is not an imap account: POP3 has no flags to set", a.Name)}
	}
	byFolder := imapByFolder(ids)
	if len(byFolder) == 0 {
		return 0, nil
	}
	a = a.WithDefaults()
	s, err := imapDial(ctx, a, o, nil, false)
	if err != nil {
		return 0, err
	}
	defer s.logout()
	return imapMarkSeen(ctx, s, a, o, byFolder)
}

// imapFolderKey is a folder in one UIDVALIDITY.
type imapFolderKey struct {
	folder   string
	validity uint32
}

// imapByFolder groups mail ids by folder and UIDVALIDITY.
func imapByFolder(ids []string) map[imapFolderKey][]imap.UID {
	byFolder := map[imapFolderKey][]imap.UID{}
	for _, id := range ids {
		f, v, uid, ok := ParseIMAPID(id)
		if !ok {
			continue
		}
		k := imapFolderKey{f, v}
		byFolder[k] = append(byFolder[k], imap.UID(uid))
	}
	return byFolder
}

// imapMarkSeen does the work of MarkSeenOnServer over session s.
func imapMarkSeen(ctx context.Context, s *imapSession, a accounts.Account, o *Options, byFolder map[imapFolderKey][]imap.UID) (int, error) {
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()

	keys := make([]imapFolderKey, 0, len(byFolder))
	for k := range byFolder {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].folder < keys[j].folder })
	n := 0
	for _, k := range keys {
		sel, err := s.c.Select(imapFolderName(k.folder), nil).Wait()
		if err != nil {
			return n, imapNetErr(a, "SELECT", err)
		}
		if sel.UIDValidity != k.validity {
			o.logger().Info("folder changed UIDVALIDITY; not marking its mails", "folder", k.folder)
			continue
		}
		uids := byFolder[k]
		store := s.c.Store(imap.UIDSetNum(uids...), &imap.StoreFlags{
			Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen},
		}, nil)
		if err := store.Close(); err != nil {
			return n, imapNetErr(a, "STORE", err)
		}
		n += len(uids)
		// UNSELECT, not CLOSE: CLOSE would expunge \Deleted mail.
		if err := s.c.Unselect().Wait(); err != nil {
			return n, imapNetErr(a, "UNSELECT", err)
		}
	}
	return n, nil
}

// MarkSeen is MarkSeenOnServer over the kept check connection, so that it
// costs no connection beyond max_connections. The account's goroutine calls
// it between checks.
func (ck *imapChecker) MarkSeen(ctx context.Context, ids []string) (int, error) {
	byFolder := imapByFolder(ids)
	if len(byFolder) == 0 {
		return 0, nil
	}
	if ck.sess != nil && !ck.sess.alive() {
		ck.dropSession()
	}
	if ck.sess == nil {
		if err := ck.connect(ctx); err != nil {
			return 0, err
		}
	}
	s := ck.sess
	s.idle.setReadTimeout(ck.o.timeout())
	defer s.idle.setReadTimeout(imapKeepQuiet)
	n, err := imapMarkSeen(ctx, s, ck.a, ck.o, byFolder)
	if err != nil && (ctx.Err() != nil || !s.alive()) {
		ck.dropSession()
	}
	return n, err
}
