package tray

import (
	"strings"
	"testing"
	"time"

	"mailsneaker/poller"
)

// refused is a snapshot whose one account's login was refused.
func refused(seq uint64) poller.Snapshot {
	return poller.Snapshot{Seq: seq, Accounts: []poller.AccountSnapshot{{
		Name: "work", Protocol: "imap", State: poller.StateError,
		Err:    &poller.CheckError{Kind: poller.KindAuth, Msg: "login refused by 127.0.0.1: check the password"},
		Failed: time.Now(), Retry: time.Now().Add(time.Minute),
	}}}
}

// TestLoopChangePassword: on a refused login the account's submenu leads
// to the fix, and a click hands the account, with its error, to the hook.
func TestLoopChangePassword(t *testing.T) {
	e := newFakeEngine()
	e.publish(refused(1))
	edited := make(chan poller.AccountSnapshot, 1)
	u, _, _, _ := startLoop(t, e, Options{EditAccount: func(a poller.AccountSnapshot) { edited <- a }})
	m := u.waitBuilt(t, "work — login refused")
	if !strings.Contains(m, "  Wrong password, or the server refused the login [-]\n  Change password…\n") {
		t.Fatalf("the submenu does not lead to the fix:\n%s", m)
	}
	u.click(t, "work — login refused", "Change password…")
	select {
	case a := <-edited:
		if a.Name != "work" || a.Err == nil || a.Err.Kind != poller.KindAuth {
			t.Errorf("EditAccount(%+v), want work with its login error", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("EditAccount not called")
	}

	// Fixed: the same hook is "Edit account…" at the end of the submenu.
	e.publish(snap(2))
	u.waitBuilt(t, "  Edit account…\n")
	u.click(t, "work — no new mail", "Edit account…")
	select {
	case a := <-edited:
		if a.Name != "work" || a.Err != nil {
			t.Errorf("EditAccount(%+v), want work without an error", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("EditAccount not called")
	}
}

// TestLoopEditWithoutHook: without a settings page (the demo) the items
// are there but disabled.
func TestLoopEditWithoutHook(t *testing.T) {
	e := newFakeEngine()
	e.publish(refused(1))
	u, _, _, _ := startLoop(t, e, Options{})
	u.waitBuilt(t, "  Change password… [-]\n")
}
