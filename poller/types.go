// Package poller talks to mail servers and decides what is new: one checker
// per protocol (imap.go, pop3.go), the persisted seen set (seen.go) and the
// manager that runs one goroutine per account and publishes snapshots.
package poller

import (
	"context"
	"time"
)

// MaxMails is how many new mails (newest first) a snapshot describes per
// account; the count and the ids cover all of them.
const MaxMails = 20

// Mail describes one message for the user.
type Mail struct {
	ID        string    // opaque and stable: POP3 UIDL, IMAP imapID(folder, uidvalidity, uid)
	Folder    string    // IMAP folder; "INBOX" for POP3
	From      string    // display name, else the address
	Subject   string    // MIME words decoded
	Date      time.Time // the Date header; zero if missing or unparsable
	MessageID string    // the Message-ID header, for matching across UIDVALIDITY changes
	Address   string    // the From address, lower-cased, for quiet_from and ignore_from; "" if unknown
	// Digest stands in for MessageID where the mail has none (IMAP):
	// dismissKey of Date, From, Subject and size.
	Digest string
}

// Query is what the caller tells a checker before a check.
type Query struct {
	// Want reports whether the caller needs an envelope for id (it is new
	// and not yet described). Checkers fetch at most MaxMails of them, newest first.
	Want func(id string) bool
	// Validity is the UIDVALIDITY the caller's state holds per IMAP folder
	// (absent: unknown). A folder whose UIDVALIDITY differs is reported in
	// Inbox.Reset and the Message-IDs of all its unseen mail are fetched.
	Validity map[string]uint32
	// Describe lists IMAP folders whose unseen mail must all be described
	// (up to a cap), not only the newest wanted: folders where the server
	// renumbers mail, so that every dismissal can follow its mail.
	Describe map[string]bool
}

// Inbox is what one check found on the server.
type Inbox struct {
	// IDs are the candidates for "new": POP3 every UIDL on the server,
	// IMAP every unseen message of every watched folder.
	IDs []string
	// Mails describes ids: those Query.Want asked for (capped) and, for
	// folders in Described, every unseen one (Message-ID at least).
	Mails map[string]Mail
	// Unread is the server's unseen count (IMAP); -1 when the protocol has none.
	Unread int
	// Reset lists IMAP folders whose UIDVALIDITY differs from Query.Validity.
	Reset []string
	// Described lists the IMAP folders whose every unseen mail is in
	// Mails: those in Reset and in Query.Describe.
	Described []string
	// Messages is the total number of messages in the watched folders.
	Messages int
	// Pushed are the IMAP folders watched by IDLE between checks, Polled
	// the ones checked by STATUS (every folder_poll_interval, or every
	// poll_interval on a server without IDLE).
	Pushed, Polled []string
}

// Checker checks one account. It is used by one goroutine at a time and
// keeps its connection(s) between checks where the protocol allows.
type Checker interface {
	// Check does I/O: it connects if needed and reports what is on the server.
	Check(ctx context.Context, q Query) (*Inbox, error)
	// Wait blocks until the server reports a change (IMAP IDLE), d has
	// elapsed, or ctx is done. It returns nil in the first two cases.
	Wait(ctx context.Context, d time.Duration) error
	// Close releases every connection.
	Close() error
}
