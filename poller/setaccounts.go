package poller

import (
	"reflect"
	"strings"

	"mailsneaker/accounts"
	"mailsneaker/seen"
)

// identity is what makes two account settings the same mailbox, so that the
// seen set of one is true of the other.
type identity struct {
	protocol accounts.Protocol
	host     string
	port     int
	username string
}

func identityOf(a accounts.Account) identity {
	a = a.WithDefaults() // port 0 means the protocol's default
	return identity{a.Protocol, strings.ToLower(a.Host), a.Port, a.Username}
}

// setAccounts is SetAccounts on the manager goroutine. Each account of next
// continues at most one running account: the one of its name if the identity
// is the same, else one whose name is gone or whose identity changed and
// that has its identity (a rename). It takes over that one's seen set and
// what is known of its mail.
func (m *Manager) setAccounts(st *state, next []accounts.Account) {
	st.reloadIfChanged(m.log)
	want := make(map[string]accounts.Account, len(next))
	var order []string
	for _, a := range next {
		if _, dup := want[a.Name]; !dup {
			want[a.Name] = a
			order = append(order, a.Name)
		}
	}

	// The running accounts whose seen set no account of their name keeps.
	vacated := map[identity][]*acctState{}
	for _, name := range st.order {
		as := st.accts[name]
		if a, ok := want[name]; !ok || identityOf(a) != identityOf(as.acct) {
			id := identityOf(as.acct)
			vacated[id] = append(vacated[id], as)
		}
	}
	type move struct {
		to   string
		seen seen.Account
	}
	var moves []move
	from := map[string]*acctState{} // new name → the running account it continues
	for _, name := range order {
		a := want[name]
		if as := st.accts[name]; as != nil && identityOf(as.acct) == identityOf(a) {
			from[name] = as
			continue
		}
		id := identityOf(a)
		if c := vacated[id]; len(c) > 0 {
			from[name], vacated[id] = c[0], c[1:]
			moves = append(moves, move{name, st.store.Account(c[0].acct.Name)})
			m.log.Info("account renamed; it keeps its seen mail", "account", name, "was", c[0].acct.Name)
		}
	}

	// Stop what does not go on as it is. Seen sets are dropped before the
	// moved ones are written, since a name may be vacated and taken again.
	saveStore := false
	for _, name := range st.order {
		as := st.accts[name]
		a, ok := want[name]
		if ok && from[name] == as && reflect.DeepEqual(as.acct, a) {
			continue
		}
		as.cancel()
		if ack := as.sleepAck; ack != nil {
			// A Sleep waits for this account's connections: they are
			// closed once its goroutine has ended.
			as.sleepAck = nil
			go func() { <-as.done; ack() }()
		}
		if !ok || from[name] != as {
			st.store.RemoveAccount(name)
			saveStore = true
			if !ok {
				m.log.Info("account removed", "account", name)
			}
		}
	}
	for _, mv := range moves {
		st.store.Update(mv.to, func(s *seen.Account) { *s = mv.seen })
		saveStore = true
	}

	accts := make(map[string]*acctState, len(order))
	var fresh []*acctState
	for _, name := range order {
		a, prev := want[name], from[name]
		if prev != nil && prev == st.accts[name] && reflect.DeepEqual(prev.acct, a) {
			accts[name] = prev
			continue
		}
		as := newAcctState(a)
		if prev != nil {
			as.after = prev.done
		}
		switch {
		case prev == nil:
			m.log.Info("watching account", "account", name)
		default:
			// Until its first check the account shows what it showed.
			if prev.acct.Name == name {
				m.log.Info("account settings changed; restarting it", "account", name)
			}
			as.described = prev.described
			if !a.Disabled && !prev.acct.Disabled {
				as.snap = settingsSnap(prev.snap, a)
			}
		}
		accts[name] = as
		fresh = append(fresh, as)
	}
	st.accts, st.order = accts, order
	for _, as := range fresh {
		m.start(st, as)
	}
	if saveStore {
		m.save(st, nil)
	}
}
