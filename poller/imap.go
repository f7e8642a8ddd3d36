package poller

// The IMAP checker is strictly read-only: it sends STATUS, EXAMINE, UID
// SEARCH, UID FETCH (ENVELOPE) and IDLE, never SELECT, STORE, EXPUNGE or
// CLOSE, so it cannot change anyone's mailbox, not even \Recent or \Seen.
//
// UIDVALIDITY policy: when a folder's UIDVALIDITY differs from the one in
// Query.Validity, every id the caller holds for it is void. The folder is
// listed in Inbox.Reset and the envelopes of all its unseen mail (at most
// imapResetCap, newest first) are returned, so the caller can carry its
// dismissals over by Message-ID instead of calling the whole folder new.

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
)

// imapResetCap bounds the envelopes fetched for a folder whose UIDVALIDITY
// changed.
const imapResetCap = 10000

// imapIdleRestart is how often IDLE is stopped and started again. DONE and
// its tagged OK are the only way to learn that a quiet IDLE connection still
// works: a link that died silently (a NAT or proxy that stopped forwarding)
// is otherwise noticed only when the stretched read times out. 20 s plus the
// reply timeout (30 s) reports such a link within a minute, at the cost of
// ~200 bytes per folder per restart; it is also well below the 10 minutes
// after which some providers drop a quiet connection.
const imapIdleRestart = 20 * time.Second

// imapKeepQuiet is how long the kept check connection may stay silent
// between checks; servers log out idle sessions after 30 minutes at least.
const imapKeepQuiet = 29 * time.Minute

// imapStatus is what STATUS says about a folder; equal statuses mean an
// unchanged folder.
type imapStatus struct {
	messages, unseen uint32
	uidNext          imap.UID
	validity         uint32
	modSeq           uint64 // 0 without CONDSTORE
}

// imapFolder is what the checker knows of one folder.
type imapFolder struct {
	status imapStatus
	unseen []imap.UID         // ascending
	mails  map[imap.UID]*Mail // envelopes already fetched (this UIDVALIDITY)
}

// imapChecker implements Checker for IMAP.
type imapChecker struct {
	a   accounts.Account
	o   *Options
	log *slog.Logger

	sess    *imapSession
	caps    imap.CapSet // of the last check session; nil before the first
	folders map[string]*imapFolder
	watched []string  // the folders of the last check ("*" expanded)
	watch   imapWatch // how changes between checks are learnt

	// stale counts the empty envelopes fetched on a kept connection by
	// the current check (see Check); freshSession says the connection was
	// opened by it.
	stale        int
	freshSession bool

	// IDLE (imap_idle.go).
	idleRestart time.Duration
	idlers      map[string]*imapIdler
	changed     chan struct{} // an IDLE connection saw a change; cap 1
	dead        chan struct{} // an idler ended; cap 1
}

// NewIMAP returns the checker of an IMAP account. It does no I/O.
func NewIMAP(a accounts.Account, o *Options) Checker {
	a = a.WithDefaults()
	ck := &imapChecker{
		a:           a,
		o:           o,
		log:         o.logger().With("account", a.Name, "protocol", "imap"),
		folders:     make(map[string]*imapFolder),
		idleRestart: imapIdleRestart,
		idlers:      make(map[string]*imapIdler),
		changed:     make(chan struct{}, 1),
		dead:        make(chan struct{}, 1),
	}
	ck.watch = imapIdleStatus{ck}
	return ck
}

// imapID is the id of a message: folder/uidvalidity/uid.
func imapID(folder string, validity uint32, uid imap.UID) string {
	return folder + "/" + strconv.FormatUint(uint64(validity), 10) + "/" + strconv.FormatUint(uint64(uid), 10)
}

// ParseIMAPID splits an IMAP mail id into folder, UIDVALIDITY and UID.
func ParseIMAPID(id string) (folder string, validity, uid uint32, ok bool) {
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return "", 0, 0, false
	}
	j := strings.LastIndexByte(id[:i], '/')
	if j <= 0 {
		return "", 0, 0, false
	}
	v, err1 := strconv.ParseUint(id[j+1:i], 10, 32)
	u, err2 := strconv.ParseUint(id[i+1:], 10, 32)
	if err1 != nil || err2 != nil || v == 0 || u == 0 {
		return "", 0, 0, false
	}
	return id[:j], uint32(v), uint32(u), true
}

// imapFolderName spells INBOX the way servers answer it, so that replies
// match the command (INBOX is case-insensitive, RFC 9051 §5.1).
func imapFolderName(f string) string {
	if strings.EqualFold(f, "INBOX") {
		return "INBOX"
	}
	return f
}

// Check reports the unseen mail of every watched folder.
func (ck *imapChecker) Check(ctx context.Context, q Query) (*Inbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Whatever IDLE reported so far is covered by this check.
	select {
	case <-ck.changed:
	default:
	}
	fresh := false
	if ck.sess == nil {
		if err := ck.connect(ctx); err != nil {
			return nil, err
		}
		fresh = true
	}
	// Between checks the kept connection is quiet: it may wait up to
	// imapKeepQuiet for the server (which may log out an idle session
	// after 30 minutes, RFC 9051 §5.4) instead of the per-read timeout,
	// which would drop it 30 s after every check.
	defer func() {
		if ck.sess != nil {
			ck.sess.idle.setReadTimeout(imapKeepQuiet)
		}
	}()
	ck.sess.idle.setReadTimeout(ck.o.timeout())
	wasAlive := ck.sess.alive()
	ck.stale, ck.freshSession = 0, fresh
	in, err := ck.checkOnce(ctx, q)
	if err == nil && ck.stale > 0 {
		// GNU Mailutils answers a kept session with empty envelopes for
		// mail another client has moved from Maildir new/ to cur/; a new
		// session reads them. Without them a dismissal cannot follow its
		// renumbered mail.
		ck.log.Debug("imap empty envelopes on a kept connection; reconnecting", "count", ck.stale)
		ck.dropSession()
		if err := ck.connect(ctx); err != nil {
			return nil, err
		}
		ck.stale, ck.freshSession = 0, true
		ck.sess.idle.setReadTimeout(ck.o.timeout())
		wasAlive, fresh = false, true
		in, err = ck.checkOnce(ctx, q)
	}
	// A live connection that timed out is a server (or path) that does not
	// answer: a fresh connection would hang as long again and double the
	// time to report it.
	if err == nil || !ck.retryable(ctx, err) || wasAlive && imapTimedOut(err) {
		return in, ck.finish(ctx, err)
	}
	ck.dropSession()
	if fresh {
		return nil, ck.finish(ctx, err)
	}
	// The kept connection had died (server restart, NAT timeout): once more.
	ck.log.Debug("imap reconnecting", "cause", err)
	if err := ck.connect(ctx); err != nil {
		return nil, err
	}
	in, err = ck.checkOnce(ctx, q)
	if err != nil && ck.retryable(ctx, err) {
		ck.dropSession()
	}
	return in, ck.finish(ctx, err)
}

// retryable reports whether err means the connection is gone (rather than a
// refusal by a server that is still talking to us).
func (ck *imapChecker) retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ce *CheckError
	if errors.As(err, &ce) {
		return false
	}
	var ie *imap.Error
	return !errors.As(err, &ie) || ck.sess == nil || !ck.sess.alive()
}

// imapTimedOut reports whether err is a read or write timeout; imapclient
// flattens I/O errors into text.
func imapTimedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "timeout")
}

// finish turns err into what Check returns.
func (ck *imapChecker) finish(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		ck.dropSession()
		return ctx.Err()
	}
	if ck.sess != nil && !ck.sess.alive() {
		ck.dropSession()
	}
	return imapNetErr(ck.a, "check", err)
}

func (ck *imapChecker) connect(ctx context.Context) error {
	s, err := imapDial(ctx, ck.a, ck.o, nil, true)
	if err != nil {
		return err
	}
	ck.sess, ck.caps = s, s.caps
	ck.log.Debug("imap connected", "idle", s.caps.Has(imap.CapIdle), "condstore", s.caps.Has(imap.CapCondStore), "esearch", s.caps.Has(imap.CapESearch))
	return nil
}

func (ck *imapChecker) dropSession() {
	if ck.sess != nil {
		ck.sess.close()
		ck.sess = nil
	}
}

// checkOnce runs one check over ck.sess.
func (ck *imapChecker) checkOnce(ctx context.Context, q Query) (*Inbox, error) {
	s := ck.sess
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()

	folders, statuses, err := ck.statuses(s, nil)
	if err != nil {
		return nil, err
	}
	ck.watched = folders
	for f := range ck.folders {
		if _, ok := statuses[f]; !ok {
			delete(ck.folders, f) // no longer watched
		}
	}

	in := &Inbox{Mails: make(map[string]Mail)}
	var wanted []*Mail
	selected := false
	in.Pushed, in.Polled = ck.watch.plan(folders)
	for _, f := range folders {
		st := statuses[f]
		v, known := q.Validity[f]
		reset := known && v != st.validity
		all := reset || q.Describe[f] // describe every unseen mail
		ck.log.Debug("imap STATUS", "folder", f, "messages", st.messages, "unseen", st.unseen, "uidnext", st.uidNext, "modseq", st.modSeq)
		fs, err := ck.folder(s, f, st, all, q.Want, &selected)
		if err != nil && ck.vanished(f, err) {
			continue // deleted since LIST: the next check lists without it
		}
		if err != nil {
			return nil, err
		}
		in.Unread += int(st.unseen)
		in.Messages += int(st.messages)
		if reset {
			in.Reset = append(in.Reset, f)
		}
		if all {
			in.Described = append(in.Described, f)
		}
		for j := len(fs.unseen) - 1; j >= 0; j-- {
			uid := fs.unseen[j]
			in.IDs = append(in.IDs, imapID(f, st.validity, uid))
			if m := fs.mails[uid]; m != nil {
				if all {
					in.Mails[m.ID] = *m
				} else if q.Want != nil && q.Want(m.ID) {
					wanted = append(wanted, m)
				}
			}
		}
	}
	if selected && s.caps.Has(imap.CapUnselect) {
		// Leave the folder, so that the next STATUS is not about the
		// selected mailbox (RFC 9051 §6.3.11 warns against that).
		if err := s.c.Unselect().Wait(); err != nil {
			return nil, err
		}
	}
	// Newest first across folders: by Date, then by UID.
	slices.SortStableFunc(wanted, func(x, y *Mail) int {
		if c := y.Date.Compare(x.Date); c != 0 {
			return c
		}
		_, _, ux, _ := ParseIMAPID(x.ID)
		_, _, uy, _ := ParseIMAPID(y.ID)
		return cmp.Compare(uy, ux)
	})
	if len(wanted) > MaxMails {
		wanted = wanted[:MaxMails]
	}
	for _, m := range wanted {
		in.Mails[m.ID] = *m
	}
	return in, nil
}

// statusErr explains a refused STATUS: almost always a folder that is not there.
func (ck *imapChecker) statusErr(folder string, err error) error {
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return err
	}
	if ie.Code == imap.ResponseCodeNonExistent || ie.Code == "" && ie.Type == imap.StatusResponseTypeNo {
		return &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("folder %s does not exist on %s", folder, ck.a.Host), Err: err}
	}
	return &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("cannot read folder %s on %s", folder, ck.a.Host), Err: err}
}

// folder brings the cache of folder f up to date with status st: when st
// is unchanged it does no I/O unless an envelope is wanted that was never
// fetched. With all it fetches the envelope of every unseen mail (up to
// imapResetCap), else of the newest wanted. It EXAMINEs f when it must
// look inside (*selected is then set).
func (ck *imapChecker) folder(s *imapSession, f string, st imapStatus, all bool, want func(string) bool, selected *bool) (*imapFolder, error) {
	fs := ck.folders[f]
	if fs == nil || fs.status.validity != st.validity {
		fs = &imapFolder{mails: make(map[imap.UID]*Mail)}
	}
	examined := false
	examine := func() error {
		if examined {
			return nil
		}
		ck.log.Debug("imap EXAMINE", "folder", f)
		if _, err := s.c.Select(imapFolderName(f), &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			return err
		}
		examined, *selected = true, true
		return nil
	}
	known := fs.status != (imapStatus{})
	switch {
	case known && fs.status == st:
		// Unchanged: the cached unseen list stands.
	case st.unseen == 0:
		fs.unseen = nil
	default:
		// EXAMINE and UID SEARCH pipelined: one round trip.
		ck.log.Debug("imap EXAMINE + UID SEARCH UNSEEN", "folder", f)
		sel := s.c.Select(imapFolderName(f), &imap.SelectOptions{ReadOnly: true})
		var sopts *imap.SearchOptions
		if s.caps.Has(imap.CapESearch) {
			sopts = &imap.SearchOptions{ReturnAll: true}
		}
		search := s.c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, sopts)
		_, selErr := sel.Wait()
		data, err := search.Wait()
		if selErr != nil {
			return nil, selErr
		}
		if err != nil {
			return nil, err
		}
		examined, *selected = true, true
		uids, err := imapUIDs(data.All)
		if err != nil {
			return nil, &CheckError{Kind: KindProtocol, Msg: fmt.Sprintf("%s answered UID SEARCH in %s oddly", ck.a.Host, f), Err: err}
		}
		fs.unseen = uids
		ck.log.Debug("imap UID SEARCH", "folder", f, "unseen", len(uids))
	}
	fs.status = st
	ck.folders[f] = fs
	// Forget envelopes of mail that is no longer unseen.
	if len(fs.mails) > 0 {
		keep := make(map[imap.UID]*Mail, len(fs.unseen))
		for _, uid := range fs.unseen {
			if m := fs.mails[uid]; m != nil {
				keep[uid] = m
			}
		}
		fs.mails = keep
	}

	// Which envelopes are missing: the newest wanted, or all.
	var need []imap.UID
	limit := MaxMails
	if all {
		limit = imapResetCap
	}
	for i := len(fs.unseen) - 1; i >= 0 && limit > 0; i-- {
		uid := fs.unseen[i]
		if !all && (want == nil || !want(imapID(f, st.validity, uid))) {
			continue
		}
		limit--
		if fs.mails[uid] == nil {
			need = append(need, uid)
		}
	}
	if len(need) == 0 {
		return fs, nil
	}
	if err := examine(); err != nil {
		return nil, err
	}
	var set imap.UIDSet
	set.AddNum(need...)
	ck.log.Debug("imap UID FETCH ENVELOPE", "folder", f, "count", len(need))
	msgs, err := s.c.Fetch(set, &imap.FetchOptions{UID: true, Envelope: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, err
	}
	for _, msg := range msgs {
		if msg.UID == 0 || msg.Envelope == nil {
			continue
		}
		if imapEnvelopeEmpty(msg.Envelope) && !ck.freshSession {
			ck.stale++ // not cached: Check fetches it again over a new connection
			continue
		}
		fs.mails[msg.UID] = imapMail(f, st.validity, msg.UID, msg.Envelope, msg.RFC822Size)
	}
	return fs, nil
}

// imapUIDs expands a SEARCH result; a dynamic set ("*") is a server bug.
func imapUIDs(all imap.NumSet) ([]imap.UID, error) {
	set, ok := all.(imap.UIDSet)
	if !ok || len(set) == 0 {
		return nil, nil
	}
	uids, ok := set.Nums()
	if !ok {
		return nil, errors.New("dynamic UID set in SEARCH result")
	}
	slices.Sort(uids)
	return slices.Compact(uids), nil
}

// imapMail describes a message from its envelope and size. imapclient has
// already decoded the MIME encoded-words of the subject and the names.
func imapMail(folder string, validity uint32, uid imap.UID, env *imap.Envelope, size int64) *Mail {
	m := &Mail{
		ID:        imapID(folder, validity, uid),
		Folder:    folder,
		Subject:   env.Subject,
		Date:      env.Date,
		MessageID: env.MessageID,
	}
	for _, addr := range env.From {
		if addr.IsGroupStart() || addr.IsGroupEnd() {
			continue
		}
		m.Address = strings.ToLower(addr.Addr())
		switch {
		case addr.Name != "":
			m.From = addr.Name
		case addr.Addr() != "":
			m.From = addr.Addr()
		default:
			m.From = addr.Mailbox
		}
		break
	}
	if m.MessageID == "" {
		m.Digest = imapDigest(env, size)
	}
	return m
}

// imapEnvelopeEmpty reports an envelope without Date, From, Subject and
// Message-ID: a message the server could not read, or a message without
// headers.
func imapEnvelopeEmpty(env *imap.Envelope) bool {
	return env.Date.IsZero() && len(env.From) == 0 && env.Subject == "" && env.MessageID == ""
}

// imapDigest identifies a mail without a Message-ID across UID changes: a
// hash of its Date, From, Subject and size, as POP3 hashes headers where
// the server has no UIDL. "d:" and 32 hex digits; a parsed Message-ID
// always holds an "@", so the two never collide.
func imapDigest(env *imap.Envelope, size int64) string {
	h := sha256.New()
	date := ""
	if !env.Date.IsZero() {
		date = strconv.FormatInt(env.Date.Unix(), 10)
	}
	fmt.Fprintf(h, "%s\n%s\n%d\n", date, env.Subject, size)
	for _, addr := range env.From {
		fmt.Fprintf(h, "%s\n%s@%s\n", addr.Name, addr.Mailbox, addr.Host)
	}
	return "d:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Close logs out of every connection and waits for their goroutines.
func (ck *imapChecker) Close() error {
	ck.watch.close()
	if ck.sess != nil {
		ck.sess.logout()
		ck.sess = nil
	}
	return nil
}
