package tray

import (
	"strings"
	"testing"
	"time"

	"mailsneaker/oauth"
	"mailsneaker/poller"
)

// TestViewSignInAgain: an oauth2 account whose sign-in was revoked says
// "sign in again", draws the error look, and its submenu leads to the
// sign-in (the account's page) with "Sign in again…". The poller does not
// retry such an account on its own, so the time line names no next try.
func TestViewSignInAgain(t *testing.T) {
	e := &poller.CheckError{Kind: poller.KindSignIn, Msg: `the sign-in of account "gmail" has expired or was revoked at oauth2.googleapis.com: sign in again`,
		Err: &oauth.Error{Kind: oauth.ErrSignInAgain, Msg: "sign in again"}}
	s := poller.Snapshot{Total: 2, Accounts: []poller.AccountSnapshot{
		{Name: "home", Protocol: "imap", State: poller.StateOK, New: 2, Checked: now.Add(-time.Minute)},
		{Name: "gmail", Protocol: "imap", State: poller.StateError, Err: e, Failed: now.Add(-2 * time.Minute)},
	}}
	m := View(s, ViewState{Now: now})
	var b strings.Builder
	render(m.Items[2:3], 0, &b)
	want := `gmail — sign in again
  Signed out: the sign-in expired or was revoked [-]
  Sign in again… {editaccount gmail}
  ---
  Failed at 15:07 [-]
  Check now {checknow gmail}
  Mark read [-] {markread gmail}
`
	if got := b.String(); got != want {
		t.Errorf("submenu:\n%s\nwant:\n%s", got, want)
	}
	if !m.Icon.Error {
		t.Errorf("icon %+v: want the error look", m.Icon)
	}
	if want := "2 new mails · 1 account needs attention\nhome: 2 new\ngmail: sign in again"; m.Tooltip != want {
		t.Errorf("tooltip %q, want %q", m.Tooltip, want)
	}
	// A healthy oauth2 account has the usual Edit account….
	s.Accounts[1] = poller.AccountSnapshot{Name: "gmail", Protocol: "imap", State: poller.StateOK, Checked: now}
	b.Reset()
	render(View(s, ViewState{Now: now}).Items[2:3], 0, &b)
	if !strings.Contains(b.String(), "  Edit account… {editaccount gmail}\n") || strings.Contains(b.String(), "Sign in again") {
		t.Errorf("healthy account's submenu:\n%s", b.String())
	}
}
