package poller

// Which folders an IMAP account watches, and their STATUS in as few round
// trips as the server allows: the configured list, with "*" expanded by
// LIST (RFC 9051 §6.3.9) minus the special folders (RFC 6154), and STATUS
// pipelined, or taken from LIST-STATUS (RFC 5819) where offered.

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailsneaker/accounts"
)

// imapListed is one folder of a LIST reply.
type imapListed struct {
	name  string
	delim rune
	attrs []imap.MailboxAttr
}

// imapSkipAttrs mark folders that "*" leaves out: mail that is elsewhere
// already (\All, \Flagged, and Gmail's \Important, RFC 8457, are views of
// it) or that nobody waits for. Gmail's [Gmail]/All Mail is \All, so INBOX
// is not counted twice.
var imapSkipAttrs = []imap.MailboxAttr{imap.MailboxAttrJunk, imap.MailboxAttrTrash, imap.MailboxAttrSent,
	imap.MailboxAttrDrafts, imap.MailboxAttrAll, imap.MailboxAttrFlagged, imap.MailboxAttrImportant}

// imapSpecialAttrs are every SPECIAL-USE attribute: a server that marks
// any folder with one marks them all, and its names are not guessed at.
var imapSpecialAttrs = append([]imap.MailboxAttr{imap.MailboxAttrArchive}, imapSkipAttrs...)

// imapSkipNames are the usual names of the folders in imapSkipAttrs, for
// servers that mark none (lower case, the last level of the name).
var imapSkipNames = map[string]bool{
	"junk": true, "spam": true, "junk e-mail": true, "junk email": true, "bulk mail": true,
	"trash": true, "deleted items": true, "deleted messages": true, "bin": true,
	"sent": true, "sent items": true, "sent messages": true, "sent mail": true,
	"drafts": true, "draft": true,
	"all mail": true, "starred": true, "flagged": true, "important": true,
}

// imapHasStar reports whether folders asks for every folder.
func imapHasStar(folders []string) bool {
	return slices.Contains(folders, accounts.AllFolders)
}

// imapExpand returns the folders to watch: conf in its order, with "*"
// replaced by every listed selectable folder that conf does not name and
// that is not special (sorted). Duplicates are dropped.
func imapExpand(conf []string, listed []imapListed) []string {
	byName := imapMarksNone(listed)
	named := map[string]bool{}
	for _, f := range conf {
		named[imapFolderName(f)] = true
	}
	var rest []string
	for _, l := range listed {
		name := imapFolderName(l.name)
		if named[name] || imapSkip(l, byName) {
			continue
		}
		named[name] = true
		rest = append(rest, name)
	}
	slices.SortFunc(rest, imapFolderOrder)
	var out []string
	seen := map[string]bool{}
	for _, f := range conf {
		if f == accounts.AllFolders {
			out = append(out, rest...)
			continue
		}
		// As written: the folder is part of the ids of its mail.
		if n := imapFolderName(f); !seen[n] {
			seen[n] = true
			out = append(out, f)
		}
	}
	return out
}

// imapMarksNone reports whether no listed folder has a SPECIAL-USE
// attribute: then the special folders are told by their names.
func imapMarksNone(listed []imapListed) bool {
	for _, l := range listed {
		if slices.ContainsFunc(l.attrs, func(a imap.MailboxAttr) bool { return slices.Contains(imapSpecialAttrs, a) }) {
			return false
		}
	}
	return true
}

// imapUnselectable reports a listed name that holds no mail of its own:
// \Noselect or \NonExistent (a hierarchy level, or a parent of a
// subscribed folder).
func imapUnselectable(l imapListed) bool {
	return slices.Contains(l.attrs, imap.MailboxAttrNoSelect) || slices.Contains(l.attrs, imap.MailboxAttrNonExistent)
}

// imapSkip reports whether "*" leaves l out.
func imapSkip(l imapListed, byName bool) bool {
	if imapUnselectable(l) {
		return true
	}
	if slices.ContainsFunc(l.attrs, func(a imap.MailboxAttr) bool { return slices.Contains(imapSkipAttrs, a) }) {
		return true
	}
	if !byName {
		return false
	}
	leaf := l.name
	if l.delim != 0 {
		if i := strings.LastIndex(leaf, string(l.delim)); i >= 0 {
			leaf = leaf[i+len(string(l.delim)):]
		}
	}
	return imapSkipNames[strings.ToLower(leaf)]
}

// imapFolderOrder sorts INBOX first, the rest by name.
func imapFolderOrder(x, y string) int {
	switch {
	case x == y:
		return 0
	case x == "INBOX":
		return -1
	case y == "INBOX":
		return 1
	}
	return strings.Compare(x, y)
}

// imapStatusOptions are the STATUS items a check needs.
func imapStatusOptions(caps imap.CapSet) *imap.StatusOptions {
	return &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, NumUnseen: true,
		HighestModSeq: caps.Has(imap.CapCondStore)}
}

// imapStatusOf converts a STATUS reply; ok is false when counts are missing.
func imapStatusOf(d *imap.StatusData) (imapStatus, bool) {
	if d == nil || d.NumMessages == nil || d.NumUnseen == nil || d.UIDValidity == 0 {
		return imapStatus{}, false
	}
	return imapStatus{messages: *d.NumMessages, unseen: *d.NumUnseen, uidNext: d.UIDNext, validity: d.UIDValidity, modSeq: d.HighestModSeq}, true
}

// statuses does I/O on s: it resolves the configured folders (LIST when
// they hold "*") and asks the STATUS of those for which need is true (nil:
// all). Without "*" that is one round trip of pipelined STATUS commands;
// with "*" it is one LIST RETURN (STATUS) where the server has LIST-STATUS,
// else LIST and then the pipelined STATUS commands.
func (ck *imapChecker) statuses(s *imapSession, need func(string) bool) ([]string, map[string]imapStatus, error) {
	opts := imapStatusOptions(s.caps)
	st := map[string]imapStatus{}
	folders := make([]string, 0, len(ck.a.Folders))
	for _, f := range ck.a.Folders {
		if f != accounts.AllFolders {
			folders = append(folders, f)
		}
	}
	if imapHasStar(ck.a.Folders) {
		listed, err := ck.list(s, opts, st)
		if err != nil {
			return nil, nil, err
		}
		folders = imapExpand(ck.a.Folders, listed)
	}
	var ask []string
	for _, f := range folders {
		if _, ok := st[f]; !ok && (need == nil || need(f)) {
			ask = append(ask, f)
		}
	}
	// All STATUS commands go out at once: one round trip.
	cmds := make([]*imapclient.StatusCommand, len(ask))
	for i, f := range ask {
		cmds[i] = s.c.Status(imapFolderName(f), opts)
	}
	var firstErr error
	for i, cmd := range cmds {
		data, err := cmd.Wait()
		if err != nil && ck.vanished(ask[i], err) {
			ck.log.Debug("imap folder gone since LIST", "folder", ask[i])
			folders = slices.DeleteFunc(folders, func(f string) bool { return f == ask[i] })
			continue
		}
		if err != nil {
			if firstErr == nil {
				firstErr = ck.statusErr(ask[i], err)
			}
			continue
		}
		v, ok := imapStatusOf(data)
		if !ok {
			if firstErr == nil {
				firstErr = &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s answered STATUS %s without counts", ck.a.Host, ask[i])}
			}
			continue
		}
		st[ask[i]] = v
	}
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return folders, st, nil
}

// list sends LIST "" "*", asking for SPECIAL-USE attributes and, with
// LIST-STATUS, the status of every folder (stored in st).
func (ck *imapChecker) list(s *imapSession, opts *imap.StatusOptions, st map[string]imapStatus) ([]imapListed, error) {
	lopts := &imap.ListOptions{ReturnSpecialUse: s.caps.Has(imap.CapSpecialUse)}
	if s.caps.Has(imap.CapListStatus) || s.caps.Has(imap.CapIMAP4rev2) {
		lopts.ReturnStatus = opts
	}
	if !lopts.ReturnSpecialUse && lopts.ReturnStatus == nil {
		lopts = nil
	}
	listed, err := readList(s.c.List("", "*", lopts), st)
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s refused to list its folders (folders = [\"*\"])", ck.a.Host), Err: err}
		}
		return nil, err
	}
	return listed, nil
}

// vanished reports whether err is the server refusing folder f that only
// "*" brought in: it was deleted since the LIST, which is no error.
func (ck *imapChecker) vanished(f string, err error) bool {
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo || !imapHasStar(ck.a.Folders) {
		return false
	}
	return !slices.ContainsFunc(ck.a.Folders, func(c string) bool { return imapFolderName(c) == imapFolderName(f) })
}
