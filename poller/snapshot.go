package poller

import "time"

// AccountState is where an account's goroutine stands.
type AccountState int

// Account states.
const (
	StateStarting AccountState = iota // not checked yet
	StateOK                           // the last check succeeded
	StateError                        // the last check failed; Err says why
)

// AccountSnapshot is the immutable view of one account.
type AccountSnapshot struct {
	Name     string
	Protocol string // "imap" | "pop3"
	State    AccountState
	Err      *CheckError // non-nil in StateError
	New      int         // how many mails are new (len(NewIDs))
	NewIDs   []string    // every new mail's id: what Mark all read promotes
	Mails    []Mail      // the newest new mails, newest first, at most MaxMails
	Unread   int         // the server's unseen count (IMAP); -1 for POP3 or unknown
	Checked  time.Time   // end of the last successful check
	Failed   time.Time   // in StateError: when the last check failed
	Retry    time.Time   // in StateError: when the next try is due (the backoff's end); zero if none is planned
	Notice   string      // a one-off remark for the user ("re-baselined: ...")
	Pushed   []string    // IMAP folders whose changes the server pushes (IDLE)
	Polled   []string    // IMAP folders checked by STATUS (folder_poll_interval; poll_interval without IDLE)
	OpenCmd  string      // account's open_command, if any
	URL      string      // account's url, if any
	// ErrSince is when the errors in a row began ("offline since 10:42");
	// zero unless State is StateError.
	ErrSince time.Time

	Paused     bool     // enabled = false: not watched, holds no connection
	Ignored    int      // new mails from ignore_from senders: not in New (len(IgnoredIDs))
	IgnoredIDs []string // their ids: Mark read dismisses them too
	QuietIDs   []string // the ids in NewIDs from quiet_from senders: never notified
	NoNotify   bool     // notify = false: no notification for this account
	Sound      string   // the account's notification sound (name or file); "" is silent
	OpenWith   string   // the account's built-in opener (accounts.OpenWith)
}

// Snapshot is the immutable state of every account at one moment. Readers
// must not modify it; the manager never does after publishing.
type Snapshot struct {
	Seq      uint64 // increases with every publication
	Accounts []AccountSnapshot
	Total    int // sum of New
}

// Errors counts the accounts in StateError.
func (s Snapshot) Errors() int {
	n := 0
	for _, a := range s.Accounts {
		if a.State == StateError {
			n++
		}
	}
	return n
}
