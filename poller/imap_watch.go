package poller

import (
	"context"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
)

// imapWatch is how the checker learns of changes between checks, within
// the account's connection budget (max_connections, the check connection
// included). imapIdleStatus is the one there is; NOTIFY (RFC 5465), which
// pushes every folder over one connection, slots in here once go-imap has
// client support for it.
type imapWatch interface {
	// plan splits the watched folders (INBOX first, then as configured)
	// into those the server pushes changes of and those polled.
	plan(folders []string) (pushed, polled []string)
	// wait blocks until a watched folder changed, d elapsed, or ctx ended;
	// nil in the first two cases. Only the account's goroutine calls it,
	// between checks, so it may use the kept check connection.
	wait(ctx context.Context, d time.Duration) error
	// close ends every connection the watch holds and waits for them.
	close()
}

// imapPlanOrder is the order in which folders get an IDLE connection:
// INBOX first, then as configured.
func imapPlanOrder(folders []string) []string {
	out := slices.Clone(folders)
	if i := slices.IndexFunc(out, func(f string) bool { return imapFolderName(f) == "INBOX" }); i > 0 {
		inbox := out[i] // as written: the ids of its mail hold it
		out = slices.Insert(slices.Delete(out, i, i+1), 0, inbox)
	}
	return out
}

// imapIdleStatus holds an IDLE connection on each of the first
// max_connections-1 folders, and polls every other folder with STATUS on
// the kept check connection every folder_poll_interval.
type imapIdleStatus struct {
	ck *imapChecker
}

func (w imapIdleStatus) plan(folders []string) (pushed, polled []string) {
	order := imapPlanOrder(folders)
	n := 0
	if w.ck.caps.Has(imap.CapIdle) {
		n = min(len(order), max(w.ck.a.MaxConnections-1, 0))
	}
	return order[:n:n], order[n:]
}

func (w imapIdleStatus) wait(ctx context.Context, d time.Duration) error {
	ck := w.ck
	timer := time.NewTimer(d)
	defer timer.Stop()
	if !ck.caps.Has(imap.CapIdle) {
		// Every check STATUSes every folder: poll_interval is the poll.
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := ck.reapIdlers(); err != nil {
		return err
	}
	pushed, polled := w.plan(ck.watched)
	// Old connections end before new ones open: the budget holds.
	for f := range ck.idlers {
		if !slices.Contains(pushed, f) {
			ck.stopIdler(f)
		}
	}
	for _, f := range pushed {
		if ck.idlers[f] == nil {
			ck.startIdler(f)
		}
	}
	var tick <-chan time.Time
	if len(polled) > 0 || imapHasStar(ck.a.Folders) {
		t := time.NewTicker(ck.a.FolderPollInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ck.changed:
			return nil
		case <-ck.dead:
			if err := ck.reapIdlers(); err != nil {
				// Servers close the IDLE connection of a deleted folder:
				// with "*" that is a change of the folder list, not an error.
				if imapHasStar(ck.a.Folders) && ck.polledChanged(ctx, nil) {
					return nil
				}
				return err
			}
		case <-tick:
			if ck.polledChanged(ctx, polled) {
				return nil
			}
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w imapIdleStatus) close() { w.ck.stopIdlers() }

// polledChanged does I/O on the kept check connection: it STATUSes the
// polled folders (and with "*" lists the folders) and reports whether
// anything differs from the last check. A failure also counts as a change:
// the check that follows reconnects or reports it.
func (ck *imapChecker) polledChanged(ctx context.Context, polled []string) bool {
	s := ck.sess
	if s == nil || !s.alive() {
		return true
	}
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	s.idle.setReadTimeout(ck.o.timeout())
	defer s.idle.setReadTimeout(imapKeepQuiet)
	folders, st, err := ck.statuses(s, func(f string) bool { return slices.Contains(polled, f) })
	if err != nil {
		ck.log.Debug("imap folder poll failed", "err", err)
		return true
	}
	if !slices.Equal(folders, ck.watched) {
		ck.log.Debug("imap folder list changed", "folders", len(folders), "was", len(ck.watched))
		return true
	}
	for _, f := range polled {
		if fs := ck.folders[f]; fs == nil || fs.status != st[f] {
			ck.log.Debug("imap folder poll: changed", "folder", f)
			return true
		}
	}
	return false
}
