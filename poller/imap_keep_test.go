package poller

import (
	"testing"
	"time"
)

// TestIMAPKeepsQuietConnection: the check connection survives a quiet gap
// longer than the read timeout, so the next check needs no new login.
func TestIMAPKeepsQuietConnection(t *testing.T) {
	t.Parallel()
	m := startIMAPMem(t)
	rec := &imapRecorder{}
	o := imapOptions(rec, "secret")
	o.Timeout = 200 * time.Millisecond
	ck := NewIMAP(m.account(), o)
	defer ck.Close()
	mustCheck(t, ck, Query{})
	// Quiet for 5× the read timeout; nothing to wait for but the clock.
	time.Sleep(time.Second)
	mustCheck(t, ck, Query{})
	if n := rec.count("LOGIN"); n != 1 {
		t.Errorf("%d logins for two checks 1 s apart (read timeout 200 ms), want 1: the kept connection died", n)
	}
}
