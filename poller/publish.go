package poller

import "context"

// Snapshots subscribes to the published Snapshots until ctx ends or Run
// returns; then the channel is closed. The channel always holds the latest
// Snapshot: a slow reader skips stale ones and never blocks the manager.
// The last Snapshot published stays readable before the close.
func (m *Manager) Snapshots(ctx context.Context) <-chan Snapshot {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	ch := make(chan Snapshot, 1)
	if m.last.Seq > 0 {
		ch <- m.last
	}
	if m.ended {
		close(ch)
		return ch
	}
	m.subs[ch] = context.AfterFunc(ctx, func() { m.unsubscribe(ch) })
	return ch
}

// unsubscribe ends the subscription ch, if Run has not ended it yet.
func (m *Manager) unsubscribe(ch chan Snapshot) {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	if _, ok := m.subs[ch]; ok {
		delete(m.subs, ch)
		close(ch)
	}
}

// endSubscriptions closes every subscription; later ones start closed.
func (m *Manager) endSubscriptions() {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.ended = true
	for ch, stop := range m.subs {
		stop()
		close(ch)
	}
	clear(m.subs)
}

func (m *Manager) publish(st *state) {
	st.seq++
	s := snapshotOf(st)
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.last = s
	for ch := range m.subs {
		// Only the manager sends, and a channel is closed only under subMu,
		// so drain-then-send cannot block or hit a closed channel.
		select {
		case <-ch:
		default:
		}
		ch <- s
	}
}

func snapshotOf(st *state) Snapshot {
	s := Snapshot{Seq: st.seq, Accounts: make([]AccountSnapshot, 0, len(st.order))}
	for _, name := range st.order {
		a := st.accts[name].snap
		a.NewIDs = append([]string(nil), a.NewIDs...)
		a.Mails = append([]Mail(nil), a.Mails...)
		a.IgnoredIDs = append([]string(nil), a.IgnoredIDs...)
		a.QuietIDs = append([]string(nil), a.QuietIDs...)
		s.Accounts = append(s.Accounts, a)
		s.Total += a.New
	}
	return s
}
