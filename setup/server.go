// Package setup serves the "Add account…" page: a small web form on
// 127.0.0.1 that the tray opens in the browser. It finds the server settings
// of an address (autoconfig), tests the login, and writes the account to
// config.toml and its password to the keychain. Only the browser that was
// given the per-launch URL can use it.
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
	"mailsneaker/poller"
)

// DefaultIdleTimeout is how long the page waits for the user before the
// server stops by itself.
const DefaultIdleTimeout = 15 * time.Minute

// cookieName holds the per-launch token after the first request.
const cookieName = "mailsneaker_setup"

// Engine watches accounts; *poller.Manager is one. SetAccounts gives it the
// whole list at once, so that an edit is one ordered change.
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
}

// Server is a running setup page.
type Server struct {
	o      Options
	path   string
	host   string // "127.0.0.1:port", the only Host accepted
	url    string
	token  string
	srv    *http.Server
	log    *slog.Logger
	pages  *pages
	pw     *passwordStore
	idle   *time.Timer
	idleD  time.Duration
	once   sync.Once
	done   chan struct{}
	reason string // why it stopped; written once before done closes
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
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("setup: token: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("setup: listen: %w", err)
	}
	s := &Server{
		o: o, path: path, host: ln.Addr().String(), token: base64.RawURLEncoding.EncodeToString(tok),
		log: log, pages: pg, pw: newPasswordStore(), idleD: idle, done: make(chan struct{}),
	}
	s.url = "http://" + s.host + "/?token=" + s.token
	s.srv = &http.Server{
		Handler:           s.guard(s.routes()),
		ReadHeaderTimeout: 10 * time.Second,
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

// URL is the address to open in the browser; it holds the per-launch token.
func (s *Server) URL() string { return s.url }

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
			s.log.Info("setup page stopped", "reason", reason)
			close(s.done)
		}()
	})
}

// guard lets through only requests from the browser that got the URL: the
// Host must be our own address (DNS rebinding), the token must come with
// the request (query on the first GET, then a cookie), and a POST must come
// from our own pages (Origin). Everything else is 403.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if r.Host != s.host {
			s.forbid(w, r, "foreign Host")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet {
			if !s.validToken(q) {
				s.forbid(w, r, "wrong token")
				return
			}
			// Swap the token in the URL for a cookie, so that it is in
			// neither the history nor a Referer.
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			u := *r.URL
			q := u.Query()
			q.Del("token")
			u.RawQuery = q.Encode()
			s.touch()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		c, err := r.Cookie(cookieName)
		if err != nil || !s.validToken(c.Value) {
			s.forbid(w, r, "no token")
			return
		}
		if r.Method == http.MethodPost && !s.sameOrigin(r) {
			s.forbid(w, r, "foreign Origin")
			return
		}
		s.touch()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) validToken(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1
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
	s.log.Warn("setup page refused a request", "why", why, "method", r.Method, "path", r.URL.Path)
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
