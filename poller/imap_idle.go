package poller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// imapIdler keeps one IDLE connection on one folder, from the first Wait
// until Close or until the connection dies.
type imapIdler struct {
	folder string
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned
	err    error         // why run returned; read after done
}

// Wait blocks until an IDLE connection or a folder poll reports a change in
// a watched folder (new, expunged or re-flagged mail), d elapses, or ctx is
// done (see imapWatch). Without IDLE on the server it just waits d. A dead
// IDLE connection is reported as a *CheckError; the next Wait opens it again.
func (ck *imapChecker) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ck.caps == nil {
		if err := ck.connect(ctx); err != nil {
			return err
		}
	}
	return ck.watch.wait(ctx, d)
}

// reapIdlers forgets the idlers that have ended and returns the first error
// among them.
func (ck *imapChecker) reapIdlers() error {
	var first error
	for f, id := range ck.idlers {
		select {
		case <-id.done:
			delete(ck.idlers, f)
			if first == nil {
				first = id.err
			}
		default:
		}
	}
	return first
}

func (ck *imapChecker) startIdler(f string) {
	ctx, cancel := context.WithCancel(context.Background())
	id := &imapIdler{folder: f, cancel: cancel, done: make(chan struct{})}
	ck.idlers[f] = id
	var expect imapStatus
	if fs := ck.folders[f]; fs != nil {
		expect = fs.status
	}
	go func() {
		defer func() {
			close(id.done)
			select {
			case ck.dead <- struct{}{}:
			default:
			}
		}()
		id.err = ck.idle(ctx, f, expect)
		if id.err != nil && ctx.Err() == nil {
			ck.log.Debug("imap IDLE ended", "folder", f, "err", id.err)
		}
	}()
}

// stopIdler ends the IDLE connection on folder f and waits for it.
func (ck *imapChecker) stopIdler(f string) {
	if id := ck.idlers[f]; id != nil {
		id.cancel()
		<-id.done
		delete(ck.idlers, f)
	}
}

// stopIdlers ends every IDLE connection and waits for them.
func (ck *imapChecker) stopIdlers() {
	for _, id := range ck.idlers {
		id.cancel()
	}
	for f, id := range ck.idlers {
		<-id.done
		delete(ck.idlers, f)
	}
	select {
	case <-ck.dead:
	default:
	}
}

// notify tells Wait that something changed. It never blocks: it runs in
// imapclient's reader goroutine.
func (ck *imapChecker) notify(folder, what string) {
	ck.log.Debug("imap IDLE change", "folder", folder, "what", what)
	select {
	case ck.changed <- struct{}{}:
	default:
	}
}

// idle runs one IDLE connection on folder until ctx is cancelled (nil) or
// the connection fails (a *CheckError). expect is the folder's status at the
// last check: a difference seen at EXAMINE is a change that happened before
// IDLE started.
func (ck *imapChecker) idle(ctx context.Context, folder string, expect imapStatus) error {
	h := &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) { ck.notify(folder, "EXPUNGE") },
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				ck.notify(folder, "EXISTS")
			}
		},
		Fetch: func(msg *imapclient.FetchMessageData) {
			ck.notify(folder, "FETCH")
			for msg.Next() != nil {
			}
		},
	}
	s, err := imapDial(ctx, ck.a, ck.o, h, true)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer s.logout()

	condStore := s.caps.Has(imap.CapCondStore)
	// Until IDLE runs, a cancelled ctx closes the connection; then it
	// ends IDLE politely.
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	sel, err := s.c.Select(imapFolderName(folder), &imap.SelectOptions{ReadOnly: true, CondStore: condStore}).Wait()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if ck.vanished(folder, err) {
			ck.notify(folder, "gone") // the check lists the folders anew
			return nil
		}
		return ck.statusErr(folder, imapNetErr(ck.a, "EXAMINE "+folder, err))
	}
	if expect.validity != 0 && (sel.UIDValidity != expect.validity || sel.UIDNext != expect.uidNext ||
		sel.NumMessages != expect.messages || condStore && expect.modSeq != 0 && sel.HighestModSeq != expect.modSeq) {
		ck.notify(folder, "EXAMINE")
	} else if expect.validity != 0 && !condStore {
		// Without HIGHESTMODSEQ a message read elsewhere since the check
		// shows only in the unseen count. Later changes arrive as FETCH.
		var opts *imap.SearchOptions
		if s.caps.Has(imap.CapESearch) {
			opts = &imap.SearchOptions{ReturnCount: true}
		}
		data, err := s.c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, opts).Wait()
		if err != nil {
			return ck.idleErr(ctx, err)
		}
		n := data.Count
		if opts == nil {
			uids, _ := imapUIDs(data.All)
			n = uint32(len(uids))
		}
		if n != expect.unseen {
			ck.notify(folder, "SEARCH")
		}
	}
	if !stop() {
		return nil
	}
	if !s.caps.Has(imap.CapIdle) {
		<-ctx.Done()
		return nil
	}
	// A quiet server sends nothing while IDLE runs; the restart bounds the wait.
	long := ck.idleRestart + ck.o.timeout()
	for {
		cmd, err := s.c.Idle()
		if err != nil {
			return ck.idleErr(ctx, err)
		}
		// Also stretches the read that already waits for the next reply.
		s.idle.setReadTimeout(long)
		ck.log.Debug("imap IDLE started", "folder", folder)
		t := time.NewTimer(ck.idleRestart)
		closed := false
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-s.c.Closed():
			closed = true
		}
		t.Stop()
		if ctx.Err() != nil {
			s.idle.setReadTimeout(imapLogoutTimeout)
		} else {
			s.idle.setReadTimeout(ck.o.timeout())
		}
		errClose := cmd.Close()
		errWait := cmd.Wait()
		if closed {
			return ck.idleErr(ctx, errors.Join(errors.New("connection closed"), errWait))
		}
		if err := errors.Join(errClose, errWait); err != nil {
			return ck.idleErr(ctx, err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

func (ck *imapChecker) idleErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	var ce *CheckError
	if errors.As(err, &ce) {
		return err
	}
	ne := imapNetErr(ck.a, "IDLE", err)
	if errors.As(ne, &ce) && ce.Kind == KindProtocol {
		return &CheckError{Kind: KindNetwork, Msg: fmt.Sprintf("the IDLE connection to %s broke", ck.a.Addr()), Err: err}
	}
	return ne
}
