package poller

// Snapshots returns a channel that always holds the latest Snapshot: a slow
// reader skips stale ones and never blocks the manager. Each call makes a
// new subscription.
func (m *Manager) Snapshots() <-chan Snapshot {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	ch := make(chan Snapshot, 1)
	if m.last.Seq > 0 {
		ch <- m.last
	}
	m.subs = append(m.subs, ch)
	return ch
}

func (m *Manager) publish(st *state) {
	st.seq++
	s := snapshotOf(st)
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.last = s
	for _, ch := range m.subs {
		select { // only the manager sends, so drain-then-send cannot block
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
		s.Accounts = append(s.Accounts, a)
		s.Total += a.New
	}
	return s
}
