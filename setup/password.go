package setup

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
)

// maxKeptPasswords bounds the store; a single user never needs more than a
// few at once.
const maxKeptPasswords = 32

// passwordStore keeps a typed password between two requests of the form, so
// that the page never has to send it back to the browser: the form carries
// only a random one-time reference. Everything is forgotten when the server
// stops.
type passwordStore struct {
	mu    sync.Mutex
	order []string
	m     map[string]string
}

func newPasswordStore() *passwordStore {
	return &passwordStore{m: map[string]string{}}
}

// keep stores pw and returns its reference.
func (p *passwordStore) keep(pw string) string {
	b := make([]byte, 18)
	rand.Read(b)
	ref := base64.RawURLEncoding.EncodeToString(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.order) >= maxKeptPasswords {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
	p.m[ref] = pw
	p.order = append(p.order, ref)
	return ref
}

// take returns the password of ref and forgets it.
func (p *passwordStore) take(ref string) (string, bool) {
	if ref == "" {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pw, ok := p.m[ref]
	if ok {
		delete(p.m, ref)
		for i, r := range p.order {
			if r == ref {
				p.order = append(p.order[:i], p.order[i+1:]...)
				break
			}
		}
	}
	return pw, ok
}

func (p *passwordStore) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.m)
	p.order = nil
}
