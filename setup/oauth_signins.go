package setup

import (
	"crypto/subtle"
	"sync"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
)

// SignInTTL bounds a sign-in on the page: from the press of "Sign in with
// …" to the provider's redirect, and from there to Save.
const SignInTTL = 10 * time.Minute

// maxSignIns bounds the sign-ins kept at once; the oldest goes first.
const maxSignIns = 16

// signIn is one press of "Sign in with …": the flow (its state, its PKCE
// verifier) and the form as it was, and after the redirect its outcome.
type signIn struct {
	ref   string           // the page's handle on it: /s/<session>/signedin?ref=…
	flow  *oauth.Flow      // checks the state and exchanges the code
	acct  accounts.Account // what the flow signs in; a grant is only saved for the same client
	form  form             // the form when Sign in was pressed; never a password
	title string
	until time.Time

	// Set once the redirect came: a redirect is taken once.
	finished bool
	grant    *oauth.Grant // the sign-in worked
	err      string       // it did not: what to tell the user
}

// signIns are the sign-ins of one setup server. A sign-in is found by its
// state when the provider's redirect comes back (outside the session: the
// state is the guard) and by its ref from the session's pages.
type signIns struct {
	mu  sync.Mutex
	all []*signIn // oldest first
	now func() time.Time
}

// add keeps si, which expires SignInTTL from now.
func (ss *signIns) add(si *signIn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.dropExpired()
	if len(ss.all) >= maxSignIns {
		ss.all = ss.all[1:]
	}
	si.until = ss.now().Add(SignInTTL)
	ss.all = append(ss.all, si)
}

// claim finds the sign-in whose flow has state, comparing in constant
// time, and marks it finished. first is false when its redirect came
// before: a second redirect changes nothing. It returns nil for an unknown
// or expired state.
func (ss *signIns) claim(state string) (si *signIn, first bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.dropExpired()
	if state == "" {
		return nil, false
	}
	for _, x := range ss.all {
		if subtle.ConstantTimeCompare([]byte(x.flow.State()), []byte(state)) == 1 {
			si = x
		}
	}
	if si == nil {
		return nil, false
	}
	first = !si.finished
	si.finished = true
	return si, first
}

// settle records the outcome of si's redirect.
func (ss *signIns) settle(si *signIn, g *oauth.Grant, msg string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	si.grant, si.err = g, msg
}

// byRef returns a copy of the sign-in of ref, or false for an unknown or
// expired one.
func (ss *signIns) byRef(ref string) (signIn, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.dropExpired()
	if ref == "" {
		return signIn{}, false
	}
	for _, x := range ss.all {
		if subtle.ConstantTimeCompare([]byte(x.ref), []byte(ref)) == 1 {
			return *x, true
		}
	}
	return signIn{}, false
}

// forget drops the sign-in of ref: its grant was saved.
func (ss *signIns) forget(ref string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for i, x := range ss.all {
		if x.ref == ref {
			ss.all = append(ss.all[:i], ss.all[i+1:]...)
			return
		}
	}
}

// clear forgets every sign-in: the server stopped.
func (ss *signIns) clear() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.all = nil
}

func (ss *signIns) dropExpired() {
	now := ss.now()
	kept := ss.all[:0]
	for _, x := range ss.all {
		if now.Before(x.until) {
			kept = append(kept, x)
		}
	}
	clear(ss.all[len(kept):])
	ss.all = kept
}
