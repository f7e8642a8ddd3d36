// Package setup serves the "Add account…" page: a small web form on
// 127.0.0.1 that the tray opens in the browser. It finds the server settings
// of an address (autoconfig), tests the login, and writes the account to
// config.toml and its password to the keychain.
//
// Only the browser the tray opened can use it. The browser is given the
// path of a 0600 file that redirects to a single-use launch URL (see
// launch.go); redeeming that gives the session secret, which is the first
// segment of every page's path: /s/<secret>/…. There are no cookies, as a
// cookie for 127.0.0.1 goes to every port of 127.0.0.1, that is to every
// local user's server.
package setup

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"mailsneaker/accounts"
	"mailsneaker/autoconfig"
	"mailsneaker/oauth"
	"mailsneaker/poller"
)

// DefaultIdleTimeout is how long the page waits for the user before the
// server stops by itself.
const DefaultIdleTimeout = 15 * time.Minute

// Engine watches accounts; *poller.Manager is one. SetAccounts gives it the
// whole list at once, so that an edit is one ordered change. An Engine that
// also has CheckNow(account string) error is asked to check an edited
// account at once (a new password changes no setting).
type Engine interface {
	SetAccounts(ctx context.Context, accts []accounts.Account) error
}

// Secrets stores passwords by account name; *accounts.Keychain is one.
type Secrets interface {
	Get(ctx context.Context, user string) (string, error)
	Set(ctx context.Context, user, password string) error
	Delete(ctx context.Context, user string) error
}

// VerifyFunc logs in to an account and runs one read-only check, as
// poller.Verify does.
type VerifyFunc func(ctx context.Context, a accounts.Account, o *poller.Options) (*poller.Inbox, error)

// ListFoldersFunc lists an IMAP account's folders, as poller.ListFolders does.
type ListFoldersFunc func(ctx context.Context, a accounts.Account, o *poller.Options) ([]string, error)

// Options configure the setup server. Only Engine is usually set; the rest
// have working defaults and exist for tests.
type Options struct {
	// ConfigPath is the config file; "" means accounts.DefaultConfigPath().
	ConfigPath string
	// Secrets stores the passwords; nil means the OS keychain (&accounts.Keychain{}).
	Secrets Secrets
	// Engine is told about saved and removed accounts; nil means nobody.
	Engine Engine
	// Verify tests a login; nil means poller.Verify.
	Verify VerifyFunc
	// ListFolders lists IMAP folders; nil means poller.ListFolders.
	ListFolders ListFoldersFunc
	// Autoconfig configures the lookup of server settings.
	Autoconfig *autoconfig.Options
	// Poller is the base of the options for Verify and ListFolders (trusted
	// roots, timeouts, dialer); its Password is replaced.
	Poller *poller.Options
	// IdleTimeout stops the server after that long without a request; 0
	// means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// CheckTimeout bounds a connection test; 0 means 60s.
	CheckTimeout time.Duration
	// Logger receives what the page did (never a password); nil discards.
	Logger *slog.Logger
	// OAuth tunes "Sign in with …" (the code exchange's timeout and HTTP
	// client); nil means oauth's defaults.
	OAuth *oauth.FlowOptions
}

// Server is a running setup page.
type Server struct {
	o      Options
	path   string
	host   string // "127.0.0.1:port", the only Host accepted
	prefix string // "/s/<session secret>", the start of every page's path
	srv    *http.Server
	log    *slog.Logger
	pages  *pages
	pw     *passwordStore
	idle   *time.Timer
	idleD  time.Duration
	once   sync.Once
	done   chan struct{}
	reason string // why it stopped; written once before done closes

	// Launch tokens (launch.go).
	lmu       sync.Mutex
	launches  map[string]*launchTicket // by token
	stopped   bool                     // no more tickets: the server stopped
	launchTTL time.Duration
	now       func() time.Time
	// What the tray said was wrong with an account, by name, for its
	// edit page (problem.go); guarded by lmu.
	problems map[string]*poller.CheckError
	signins  *signIns // "Sign in with …" (oauth.go)
}

// Start listens on a random port of 127.0.0.1 and serves the setup page
// until the user saves or cancels, the page is idle for the idle timeout,
// ctx ends, or Close is called.
func Start(ctx context.Context, o Options) (*Server, error) {
	path := o.ConfigPath
	if path == "" {
		p, err := accounts.DefaultConfigPath()
		if err != nil {
			return nil, fmt.Errorf("setup: config path: %w", err)
		}
		path = p
	}
	if o.Secrets == nil {
		o.Secrets = &accounts.Keychain{}
	}
	if o.Verify == nil {
		o.Verify = poller.Verify
	}
	if o.ListFolders == nil {
		o.ListFolders = poller.ListFolders
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 60 * time.Second
	}
	idle := o.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	session, err := randomToken()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("setup: listen: %w", err)
	}
	s := &Server{
		o: o, path: path, host: ln.Addr().String(), prefix: "/s/" + session,
		log: log, pages: pg, pw: newPasswordStore(), idleD: idle, done: make(chan struct{}),
		launches: map[string]*launchTicket{}, launchTTL: LaunchTTL, now: time.Now,
		problems: map[string]*poller.CheckError{},
	}
	s.signins = &signIns{now: s.now}
	s.srv = &http.Server{
		Handler:           s.guard(s.routes()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       connIdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	s.idle = time.AfterFunc(idle, func() { s.stop("idle") })
	go func() {
		select {
		case <-ctx.Done():
			s.stop("context done")
		case <-s.done:
		}
	}()
	go s.srv.Serve(ln)
	log.Info("setup page listening", "addr", s.host)
	return s, nil
}

// connIdleTimeout closes a kept-alive connection that sends no new
// request: any local user can connect, and without it an idle connection
// (a file descriptor of the tray) was held as long as the page ran.
const connIdleTimeout = 10 * time.Second

// randomToken is 256 random bits, URL-safe.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("setup: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops the server now.
func (s *Server) Close() error {
	s.stop("closed")
	<-s.done
	return nil
}

// stop shuts the server down once, letting a response in flight (the
// "Saved" page) finish first.
func (s *Server) stop(reason string) {
	s.once.Do(func() {
		s.idle.Stop()
		s.reason = reason
		go func() {
			// Browsers keep pre-opened connections that Shutdown would wait
			// seconds for; the last page needs far less.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := s.srv.Shutdown(ctx); err != nil {
				s.srv.Close()
			}
			s.pw.clear()
			s.signins.clear()
			s.dropLaunches()
			s.log.Info("setup page stopped", "reason", reason)
			close(s.done)
		}()
	})
}

// guard lets through only requests from the browser that redeemed a launch
// token: the Host must be our own address (DNS rebinding), the path must
// start with the session secret, and a POST must come from our own pages
// (Origin). Everything else is 403.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		// The secret is in every URL, so no Referer may leave the origin
		// (scheme, host and port: another port of 127.0.0.1 is another
		// origin). Not no-referrer: with it browsers send "Origin: null"
		// on our own form POSTs, and the Origin check could not tell them
		// from a forged one.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		// A request that does not get into the session has its body
		// dropped, not drained after the answer: anyone on this machine
		// can send one (to the callback, a forbidden POST), and a body
		// dripped a byte at a time held the connection for ever. (No
		// ReadTimeout: it would cancel the context of a long connection
		// test. Only with a body: without one, net/http reads ahead in
		// the background, and a deadline would cancel the connection's
		// next requests.)
		inSession := false
		defer func() {
			if !inSession && r.ContentLength != 0 {
				http.NewResponseController(w).SetReadDeadline(time.Now())
			}
		}()
		if r.Host != s.host {
			s.forbid(w, r, "foreign Host")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if tok, ok := strings.CutPrefix(r.URL.Path, launchPath); ok && r.Method == http.MethodGet {
			s.redeem(w, r, tok)
			return
		}
		if r.URL.Path == oauth.CallbackPath && r.Method == http.MethodGet {
			s.handleCallback(w, r) // the state is its guard (oauth.go)
			return
		}
		rest, ok := s.cutSession(r.URL.Path)
		if !ok {
			s.forbid(w, r, "no session")
			return
		}
		if rest == "" {
			// The pages link relative to the session's directory.
			http.Redirect(w, r, s.prefix+"/", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !s.sameOrigin(r) {
			s.forbid(w, r, "foreign Origin")
			return
		}
		inSession = true
		s.touch()
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = rest, ""
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

// cutSession checks that p starts with the session prefix, in constant
// time, and returns the rest of the path.
func (s *Server) cutSession(p string) (string, bool) {
	n := len(s.prefix)
	if len(p) < n || subtle.ConstantTimeCompare([]byte(p[:n]), []byte(s.prefix)) != 1 {
		return "", false
	}
	rest := p[n:]
	if rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}

// sameOrigin checks the Origin of a POST; browsers that send none must
// send a Referer from our own pages.
func (s *Server) sameOrigin(r *http.Request) bool {
	own := "http://" + s.host
	if o := r.Header.Get("Origin"); o != "" {
		return o == own
	}
	ref := r.Header.Get("Referer")
	return ref == own || strings.HasPrefix(ref, own+"/")
}

func (s *Server) forbid(w http.ResponseWriter, r *http.Request, why string) {
	// Only the first segment of the path: the rest may be a secret, a
	// spent token or someone's guess at one.
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	s.log.Warn("setup page refused a request", "why", why, "method", r.Method, "path", "/"+first)
	http.Error(w, "forbidden: open the setup page from the MailSneaker tray menu", http.StatusForbidden)
}

// touch restarts the idle timer.
func (s *Server) touch() {
	select {
	case <-s.done:
	default:
		s.idle.Reset(s.idleD)
	}
}
