package tray

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"mailsneaker/icons"
	"mailsneaker/poller"
)

// Limits of what the menu shows. The full error text is in the log and on
// the account's setup page, not in the menu: a long item makes the whole
// menu as wide as the screen.
const (
	MaxMailRows  = 10 // newest new mails listed per account
	MaxMailLabel = 60 // runes in a "Sender — Subject" row
	MaxSaidLabel = 60 // runes of the server's own words under an error
	MaxLabel     = 80 // runes in any label
)

// Menu is everything the tray shows for one snapshot.
type Menu struct {
	Title   string      // beside the icon (macOS, some Linux hosts): the total, "" at 0
	Tooltip string      // one line per account, after the headline when an account needs attention
	Icon    icons.State // what the icon draws
	Items   []Item      // the menu, top to bottom
}

// Item is one menu entry, a separator, or a submenu (Children non-empty).
type Item struct {
	Label     string
	Disabled  bool
	Separator bool
	Checkable bool // drawn with a check box (Linux) or a check mark when Checked
	Checked   bool
	Children  []Item
	Action    Action // what a click does; zero for none
}

// ActionKind says what a click does.
type ActionKind int

// Kinds of action.
const (
	ActNone          ActionKind = iota
	ActMarkRead                 // Engine.MarkRead for Account ("" = all) with the snapshot shown
	ActCheckNow                 // Engine.CheckNow for Account ("" = all)
	ActOpenMail                 // Options.OpenMail for mail MailID of Account
	ActAddAccount               // Options.AddAccount
	ActQuit                     // end Run
	ActAutostart                // Options.Autostart.Set(On)
	ActPauseHour                // Options.Pause.Pause for an hour from the click
	ActPauseTomorrow            // Options.Pause.Pause until 08:00 the day after the click
	ActResume                   // Options.Pause.Resume
	ActMarkOnServer             // Options.MarkOnServer for Account with the snapshot shown
	ActAccounts                 // Options.Accounts
	ActEditAccount              // Options.EditAccount for Account, with its problem in the snapshot shown
	ActSetEnabled               // Options.SetEnabled for Account: On resumes, !On pauses
)

var actionNames = [...]string{
	ActNone: "none", ActMarkRead: "markread", ActCheckNow: "checknow", ActOpenMail: "openmail",
	ActAddAccount: "addaccount", ActQuit: "quit", ActAutostart: "autostart", ActPauseHour: "pausehour",
	ActPauseTomorrow: "pausetomorrow", ActResume: "resume", ActMarkOnServer: "markonserver", ActAccounts: "accounts",
	ActEditAccount: "editaccount", ActSetEnabled: "setenabled",
}

// String names the kind in logs and test goldens: "checknow", not "2".
func (k ActionKind) String() string {
	if k >= 0 && int(k) < len(actionNames) {
		return actionNames[k]
	}
	return fmt.Sprintf("ActionKind(%d)", int(k))
}

// Action is what a click on an item does.
type Action struct {
	Kind    ActionKind
	Account string // account name; "" = all accounts
	MailID  string // for ActOpenMail
	On      bool   // for ActAutostart, ActSetEnabled: the state to set (the opposite of the one shown)
}

// ViewState is what the menu shows besides the snapshot. The zero value
// (but for Now) hides every optional entry.
type ViewState struct {
	// Now writes the time of the last check and of the end of a pause
	// ("14:05", "tomorrow 08:00", or with the date).
	Now time.Time
	// Pause shows the "Pause notifications" submenu. PausedUntil is the end
	// of the current pause: zero, or not after Now, when not paused.
	Pause       bool
	PausedUntil time.Time
	// Autostart shows "Start at login", checked when AutostartOn.
	Autostart   bool
	AutostartOn bool
	// MarkOnServer offers "Mark read on server" for each IMAP account.
	MarkOnServer bool
	// AccountPause offers "Pause" / "Resume" in each account's submenu.
	AccountPause bool
}

// paused reports whether a pause is running at st.Now.
func (st ViewState) paused() bool { return st.Pause && st.PausedUntil.After(st.Now) }

// View turns a snapshot into the menu the tray shows. It is pure: st says
// what else to show, and its Now is the only clock it reads.
func View(s poller.Snapshot, st ViewState) Menu {
	m := Menu{Icon: iconState(s)}
	if s.Total > 0 {
		m.Title = strconv.Itoa(s.Total)
	}
	head := headline(s)
	m.Items = append(m.Items, Item{Label: head, Disabled: true})
	if st.paused() {
		m.Items = append(m.Items, Item{Label: "Paused until " + clock(st.PausedUntil, st.Now), Disabled: true})
	}
	tips := make([]string, 0, len(s.Accounts))
	for _, a := range s.Accounts {
		m.Items = append(m.Items, accountItem(a, st))
		tips = append(tips, a.Name+": "+status(a))
	}
	if len(s.Accounts) == 0 {
		tips = append(tips, "MailSneaker: no accounts")
	}
	if trouble(s) > 0 {
		// The count of trouble leads, as in the menu; all fine, the
		// accounts' lines say enough.
		tips = append([]string{head}, tips...)
	}
	m.Tooltip = strings.Join(tips, "\n")
	m.Items = append(m.Items,
		Item{Separator: true},
		Item{Label: "Mark all read", Disabled: s.Total == 0, Action: Action{Kind: ActMarkRead}},
		Item{Label: "Check now", Disabled: len(s.Accounts) == 0, Action: Action{Kind: ActCheckNow}},
	)
	if st.Pause {
		m.Items = append(m.Items, pauseItem(st))
	}
	if st.Autostart {
		m.Items = append(m.Items, Item{Label: "Start at login", Checkable: true, Checked: st.AutostartOn,
			Action: Action{Kind: ActAutostart, On: !st.AutostartOn}})
	}
	m.Items = append(m.Items,
		Item{Label: "Add account…", Action: Action{Kind: ActAddAccount}},
		Item{Label: "Accounts…", Disabled: len(s.Accounts) == 0, Action: Action{Kind: ActAccounts}},
		Item{Label: "Quit", Action: Action{Kind: ActQuit}},
	)
	return m
}

// pauseItem is the "Pause notifications" submenu; Resume only while paused.
func pauseItem(st ViewState) Item {
	it := Item{Label: "Pause notifications", Children: []Item{
		{Label: "For 1 hour", Action: Action{Kind: ActPauseHour}},
		{Label: "Until tomorrow", Action: Action{Kind: ActPauseTomorrow}},
	}}
	if st.paused() {
		it.Children = append(it.Children, Item{Label: "Resume", Action: Action{Kind: ActResume}})
	}
	return it
}

// tomorrowMorning is when "Until tomorrow" ends: 08:00 on the day after
// now, in now's location (time.Date normalizes the day and DST).
func tomorrowMorning(now time.Time) time.Time {
	y, m, d := now.Date()
	return time.Date(y, m, d+1, 8, 0, 0, 0, now.Location())
}

// nextChange is when a pause ending at until next changes the menu: its
// end, or the coming midnight if that is earlier (the label drops its
// "tomorrow"). It is zero when no pause runs at now.
func nextChange(until, now time.Time) time.Time {
	if !until.After(now) {
		return time.Time{}
	}
	y, m, d := now.Date()
	if midnight := time.Date(y, m, d+1, 0, 0, 0, 0, now.Location()); midnight.Before(until) {
		return midnight
	}
	return until
}

// starting is the menu shown before the first snapshot arrives.
func starting() Menu {
	return Menu{
		Tooltip: "MailSneaker: starting",
		Icon:    icons.State{Offline: true},
		Items: []Item{
			{Label: "Starting…", Disabled: true},
			{Separator: true},
			{Label: "Quit", Action: Action{Kind: ActQuit}},
		},
	}
}

// iconState is grey when there is nothing to watch or nothing reachable,
// and carries the warning mark when some account has an error.
func iconState(s poller.Snapshot) icons.State {
	offline := true
	for _, a := range s.Accounts {
		if a.State != poller.StateError || a.Err == nil || a.Err.Kind != poller.KindNetwork {
			offline = false
		}
	}
	return icons.State{Count: s.Total, Error: s.Errors() > 0, Offline: offline}.Normal()
}

// headline counts the new mail and, if any, the accounts in trouble:
// "3 new mails · 1 account needs attention".
func headline(s poller.Snapshot) string {
	var h string
	switch {
	case len(s.Accounts) == 0:
		return "No accounts set up"
	case s.Total == 0:
		h = "No new mail"
	case s.Total == 1:
		h = "1 new mail"
	default:
		h = fmt.Sprintf("%d new mails", s.Total)
	}
	h += ignoredNote(s)
	switch n := trouble(s); {
	case n == 1:
		h += " · 1 account needs attention"
	case n > 1:
		h += fmt.Sprintf(" · %d accounts need attention", n)
	}
	return h
}

// trouble counts the accounts whose last check failed.
func trouble(s poller.Snapshot) int { return s.Errors() }

// status is the short state of an account: "2 new", "no new mail",
// "login refused", "2 new, login refused".
func status(a poller.AccountSnapshot) string {
	if a.Paused {
		return "Paused"
	}
	news := "no new mail"
	if a.New > 0 {
		news = fmt.Sprintf("%d new", a.New)
	}
	news += ignoredCount(a.Ignored)
	switch a.State {
	case poller.StateStarting:
		if a.New == 0 {
			return "checking…"
		}
	case poller.StateError:
		if a.New == 0 {
			return shortError(a.Err)
		}
		return news + ", " + shortError(a.Err)
	}
	return news
}

// shortError names what went wrong in a few words, by kind.
func shortError(e *poller.CheckError) string {
	if e == nil {
		return "error"
	}
	if e.TooManyConnections() {
		return "too many connections"
	}
	switch e.Kind {
	case poller.KindNetwork:
		return "server unreachable"
	case poller.KindTLS:
		return "secure connection failed"
	case poller.KindAuth:
		return "login refused"
	case poller.KindSignIn:
		return "sign in again"
	case poller.KindProtocol:
		return "server error"
	case poller.KindConfig:
		return "settings problem"
	}
	return "error"
}

// problem is what an account's submenu says is wrong, in plain words: a
// line by kind, the server's own words on a second line, and the item that
// leads to the fix.
func problem(e *poller.CheckError) (what, said string, fix Item) {
	fix = Item{Label: "Edit account…"}
	if e == nil {
		return "Something went wrong — see the log", "", fix
	}
	switch {
	case e.TooManyConnections():
		what = "Too many connections to this server"
	case e.Kind == poller.KindAuth:
		what = "Wrong password, or the server refused the login"
		fix.Label = "Change password…"
	case e.Kind == poller.KindSignIn:
		what = "Signed out: the sign-in expired or was revoked"
		fix.Label = "Sign in again…"
	case e.PasswordMissing():
		what = "No password stored for this account"
		fix.Label = "Set password…"
	case e.Kind == poller.KindNetwork:
		what = "Server not reachable — are you offline?"
	case e.Kind == poller.KindTLS && e.Certificate() != nil:
		what = "Certificate not trusted"
	case e.Kind == poller.KindTLS:
		what = "Secure connection failed — check the security setting"
	case e.Kind == poller.KindConfig:
		what = "The account's settings need a fix"
	default:
		what = "The server answered something unexpected"
	}
	if t := clean(e.Said()); t != "" {
		said = "Server: " + cutWords(t, MaxSaidLabel-len([]rune("Server: ")))
	}
	return what, said, fix
}

func accountItem(a poller.AccountSnapshot, st ViewState) Item {
	if a.Paused {
		return pausedItem(a, st)
	}
	it := Item{Label: truncate(a.Name+" — "+status(a), MaxLabel)}
	edit := Action{Kind: ActEditAccount, Account: a.Name}
	fix := Item{Label: "Edit account…"}
	failed := a.State == poller.StateError
	if failed {
		var what, said string
		what, said, fix = problem(a.Err)
		it.Children = append(it.Children, Item{Label: what, Disabled: true})
		if said != "" {
			it.Children = append(it.Children, Item{Label: said, Disabled: true})
		}
		// The way to the fix stands right under what is wrong.
		fix.Action = edit
		it.Children = append(it.Children, fix, Item{Separator: true})
	}
	shown := a.Mails[:min(len(a.Mails), MaxMailRows)]
	for _, m := range shown {
		it.Children = append(it.Children, Item{
			Label:  mailLabel(m),
			Action: Action{Kind: ActOpenMail, Account: a.Name, MailID: m.ID},
		})
	}
	if more := a.New - len(shown); more > 0 && len(shown) > 0 {
		it.Children = append(it.Children, Item{Label: fmt.Sprintf("… and %d more", more), Disabled: true})
	}
	if len(shown) > 0 {
		it.Children = append(it.Children, Item{Separator: true})
	}
	it.Children = append(it.Children,
		Item{Label: timeLine(a, st.Now), Disabled: true},
	)
	if l := foldersLine(a); l != "" {
		it.Children = append(it.Children, Item{Label: l, Disabled: true})
	}
	it.Children = append(it.Children,
		Item{Label: "Check now", Action: Action{Kind: ActCheckNow, Account: a.Name}},
		Item{Label: "Mark read", Disabled: a.New == 0, Action: Action{Kind: ActMarkRead, Account: a.Name}},
	)
	if st.MarkOnServer && a.Protocol == "imap" {
		it.Children = append(it.Children, Item{Label: "Mark read on server", Disabled: a.New == 0,
			Action: Action{Kind: ActMarkOnServer, Account: a.Name}})
	}
	if st.AccountPause {
		it.Children = append(it.Children, Item{Label: "Pause", Action: Action{Kind: ActSetEnabled, Account: a.Name}})
	}
	if !failed {
		fix.Action = edit
		it.Children = append(it.Children, fix)
	}
	return it
}

// timeLine says truthfully where the account's checks stand: "Checking…"
// before the first result, "Last checked 10:42" after a success, "Failed
// at 10:42 — next try 10:47" after a failure, with the backoff's own end
// ("retrying in 6 s" when that is within the same minute).
func timeLine(a poller.AccountSnapshot, now time.Time) string {
	switch a.State {
	case poller.StateStarting:
		return "Checking…"
	case poller.StateError:
		if a.Failed.IsZero() {
			return "Failed — next try soon"
		}
		line := "Failed at " + when(a.Failed, now)
		if a.Err != nil && a.Err.Kind == poller.KindNetwork && !a.ErrSince.IsZero() {
			// A network error in a row of them: how long the account has
			// been cut off is what the user wants to know.
			line = "Offline since " + when(a.ErrSince, now)
		}
		switch {
		case a.Retry.IsZero():
		case when(a.Retry, now) == when(a.Failed, now):
			// The first retries come seconds later: "next try 10:42"
			// after "Failed at 10:42" would read as a mistake.
			line += fmt.Sprintf(" — retrying in %d s", max(1, int(a.Retry.Sub(a.Failed).Round(time.Second)/time.Second)))
		default:
			line += " — next try " + clock(a.Retry, now)
		}
		return line
	}
	if a.Checked.IsZero() {
		return "Checking…"
	}
	return "Last checked " + when(a.Checked, now)
}

// when writes a past time t: "14:05" today, else with the date.
func when(t, now time.Time) string {
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04")
	}
	if y1 == y2 {
		return t.Format("Jan 2 15:04")
	}
	return t.Format("Jan 2 2006 15:04")
}

// clock writes a coming time t: "14:30" today, "tomorrow 08:00", else
// with the date.
func clock(t, now time.Time) string {
	t = t.In(now.Location())
	y, m, d := now.Date()
	ty, tm, td := t.Date()
	ny, nm, nd := time.Date(y, m, d+1, 12, 0, 0, 0, now.Location()).Date()
	switch {
	case ty == y && tm == m && td == d:
		return t.Format("15:04")
	case ty == ny && tm == nm && td == nd:
		return "tomorrow " + t.Format("15:04")
	case ty == y:
		return t.Format("Jan 2 15:04")
	}
	return t.Format("Jan 2 2006 15:04")
}

// mailLabel is "Sender — Subject", cut to MaxMailLabel runes.
func mailLabel(m poller.Mail) string {
	from, subj := clean(m.From), clean(m.Subject)
	if from == "" {
		from = "(unknown sender)"
	}
	if subj == "" {
		subj = "(no subject)"
	}
	return truncate(from+" — "+subj, MaxMailLabel)
}

// clean makes text from the network fit on one menu line: control
// characters (newlines, tabs, escapes) become spaces, runs of spaces one.
func clean(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cutWords cuts s to at most n runes at a word boundary, the last one an
// ellipsis; a single word longer than half of n is cut inside.
func cutWords(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := r[:n-1]
	for i := len(head); i > n/2; i-- {
		if unicode.IsSpace(head[i-1]) {
			return strings.TrimRightFunc(string(head[:i]), func(c rune) bool {
				return unicode.IsSpace(c) || unicode.IsPunct(c)
			}) + "…"
		}
	}
	return truncate(s, n)
}

// truncate cuts s to n runes, the last one an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimRightFunc(string(r[:n-1]), unicode.IsSpace) + "…"
}
