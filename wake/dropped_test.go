package wake_test

import (
	"strings"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
)

// TestPacketsDroppedOrRefused puts a proxy between the real manager and
// Dovecot. When it silently drops every byte, and when it refuses
// connections, the account ends in a network error within 60 s — never a
// password problem — and after it forwards again (and the network is said
// to be back) the mail that came meanwhile is counted.
func TestPacketsDroppedOrRefused(t *testing.T) {
	d := testenv.StartDovecot(t)
	user, pw := d.AddUser(t)
	p := startProxy(t, d.Addr(d.IMAPS))
	r := runManager(t, d, p.addr, user, pw)
	m, ctx, snaps := r.m, r.ctx, r.snaps
	waitSnapshot(t, snaps, "the first check", 30*time.Second, func(s poller.AccountSnapshot) bool {
		return s.State == poller.StateOK && s.New == 0
	})
	waitConns(t, d, user, "the check and IDLE connections", func(c []string) bool { return len(c) == 2 })

	truth := 0
	for _, tc := range []struct {
		mode, want string // want: words of the error the account ends in
	}{
		{"drop", "did not answer in time"},
		{"refuse", "refused the connection"},
	} {
		p.set(tc.mode)
		t0 := time.Now()
		s := waitSnapshot(t, snaps, tc.mode+": the error", 60*time.Second, func(s poller.AccountSnapshot) bool {
			if s.State == poller.StateError && s.Err.Kind != poller.KindNetwork {
				t.Errorf("%s: the account shows %v %q, want a network error", tc.mode, s.Err.Kind, s.Err)
			}
			return s.State == poller.StateError && strings.Contains(s.Err.Msg, tc.want)
		})
		t.Logf("%s → %q after %s", tc.mode, s.Err, time.Since(t0).Round(time.Millisecond))

		truth++
		d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "while "+tc.mode, "x"))
		p.set("forward")
		if err := m.Reconnect(ctx); err != nil { // what NetworkManager's connected-global does
			t.Fatal(err)
		}
		waitSnapshot(t, snaps, tc.mode+": the count once forwarding again", 30*time.Second, func(s poller.AccountSnapshot) bool {
			return s.State == poller.StateOK && s.New == truth
		})
		waitConns(t, d, user, tc.mode+": the check and IDLE connections again", func(c []string) bool { return len(c) == 2 })
	}
	r.stop(t)
}
