package wake_test

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsneaker/internal/testenv"
	"mailsneaker/poller"
	"mailsneaker/wake"
)

// BenchmarkRecovery measures P8 (docs/benchmarks.md): the time from the
// network's return, or the computer's, to the snapshot that counts the
// mail that came meanwhile. The real manager and wake.Follow run against
// Dovecot behind a proxy; the test plays logind and NetworkManager on a
// private bus.
//   - link-up: the proxy drops every byte while a mail arrives, then
//     forwards again and NetworkManager says connected-global;
//   - resume: PrepareForSleep(true), Dovecot holds no connection, a mail
//     arrives, PrepareForSleep(false).
//
// Run with -benchtime 20x; it reports the median and the max.
func BenchmarkRecovery(b *testing.B) {
	d := testenv.StartDovecot(b)
	user, pw := d.AddUser(b)
	p := startProxy(b, d.Addr(d.IMAPS))
	addr := testenv.SessionBus(b, false)
	login1 := testenv.Connect(b, addr)
	nm := testenv.Connect(b, addr)
	for c, name := range map[*dbus.Conn]string{login1: "org.freedesktop.login1", nm: "org.freedesktop.NetworkManager"} {
		if r, err := c.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
			b.Fatalf("own %s: %v %v", name, r, err)
		}
	}
	r := runManager(b, d, p.addr, user, pw)
	ctx, snaps := r.ctx, r.snaps
	go wake.Follow(ctx, slog.New(slog.DiscardHandler), addr, r.m)
	truth := 0
	counted := func(what string) {
		waitSnapshot(b, snaps, what, 30*time.Second, func(s poller.AccountSnapshot) bool {
			return s.State == poller.StateOK && s.New == truth
		})
	}
	counted("the first check")
	n2 := func(c []string) bool { return len(c) == 2 }
	waitConns(b, d, user, "the check and IDLE connections", n2)

	run := func(b *testing.B, outage func(i int), back func()) {
		var took []time.Duration
		for i := 0; b.Loop(); i++ {
			outage(i)
			truth++
			d.Deliver(b, user, testenv.Message("Ann <ann@example.com>", fmt.Sprintf("%s %d", b.Name(), i), "x"))
			t0 := time.Now()
			back()
			counted(fmt.Sprintf("%s %d", b.Name(), i))
			took = append(took, time.Since(t0))
			b.StopTimer()
			waitConns(b, d, user, "IDLE again", n2) // the next outage starts from a steady state
			b.StartTimer()
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
		b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
		b.ReportMetric(0, "ns/op")
	}
	b.Run("link-up", func(b *testing.B) {
		run(b, func(int) { p.set("drop") }, func() {
			p.set("forward")
			emit(b, nm, "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager.StateChanged", uint32(70))
		})
	})
	b.Run("resume", func(b *testing.B) {
		run(b, func(int) {
			emit(b, login1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", true)
			waitConns(b, d, user, "no connection while asleep", func(c []string) bool { return len(c) == 0 })
		}, func() {
			emit(b, login1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager.PrepareForSleep", false)
		})
	})
	r.stop(b)
}
