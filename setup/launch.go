package setup

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// LaunchTTL is how long a launch token can be redeemed.
const LaunchTTL = 2 * time.Minute

// errStopped is launchFile's answer after the server stopped.
var errStopped = errors.New("setup: the page has stopped")

// launchPath starts the single-use URL the launch file redirects to:
// /launch/<token>.
const launchPath = "/launch/"

// launchTicket is one way into the page, for one click in the tray: a
// single-use token, the page it leads to, and the 0600 file that holds it.
type launchTicket struct {
	page  string // "" (add) or "accounts"
	file  string
	until time.Time
	timer *time.Timer
}

// launchFile mints a single-use token for page ("" or "accounts") that
// expires after the server's launch TTL, and writes it into a new 0600 HTML
// file in the user's runtime dir that redirects the browser to it. The file's
// path is what the browser is given: it is no secret, so argv (readable by
// every local user) and logs may hold it. The file goes when the token is
// redeemed, expires, or the server stops.
func (s *Server) launchFile(page string) (string, error) {
	dir, err := runtimeDir()
	if err != nil {
		return "", fmt.Errorf("setup: no private directory for the launch file: %w", err)
	}
	tok, err := randomToken()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "setup-*.html") // 0600, O_EXCL
	if err != nil {
		return "", fmt.Errorf("setup: launch file: %w", err)
	}
	u := html.EscapeString("http://" + s.host + launchPath + tok)
	_, err = fmt.Fprintf(f, `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=%s">
<title>MailSneaker</title></head>
<body><p><a href="%s">Open the MailSneaker setup page</a> (the link works once, and only for a few minutes).</p></body></html>
`, u, u)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("setup: launch file: %w", err)
	}
	t := &launchTicket{page: page, file: f.Name()}
	s.lmu.Lock()
	defer s.lmu.Unlock()
	t.until = s.now().Add(s.launchTTL)
	if s.stopped {
		os.Remove(t.file)
		return "", errStopped
	}
	t.timer = time.AfterFunc(s.launchTTL, func() { s.takeTicket(tok) })
	s.launches[tok] = t
	return t.file, nil
}

// takeTicket removes the ticket of tok, stops its timer and deletes its
// file; it returns nil if there is none, and whether it was still valid.
// Tokens are compared in constant time.
func (s *Server) takeTicket(tok string) (*launchTicket, bool) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	var found string
	for k := range s.launches {
		if subtle.ConstantTimeCompare([]byte(k), []byte(tok)) == 1 {
			found = k
		}
	}
	t := s.launches[found]
	if t == nil {
		return nil, false
	}
	delete(s.launches, found)
	t.timer.Stop()
	os.Remove(t.file)
	return t, !s.now().After(t.until)
}

// redeem spends a launch token: a valid one, used for the first time within
// its TTL, leads to the page under the session secret; anything else is 403.
func (s *Server) redeem(w http.ResponseWriter, r *http.Request, tok string) {
	t, valid := s.takeTicket(tok)
	if t == nil {
		s.forbid(w, r, "unknown or spent launch token")
		return
	}
	if !valid {
		s.forbid(w, r, "expired launch token")
		return
	}
	s.touch()
	http.Redirect(w, r, s.prefix+"/"+t.page, http.StatusSeeOther)
}

// dropLaunches forgets every ticket and deletes their files; no new ones
// are made.
func (s *Server) dropLaunches() {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.stopped = true
	for k, t := range s.launches {
		t.timer.Stop()
		os.Remove(t.file)
		delete(s.launches, k)
	}
}

// runtimeDir is a directory only this user can read, for launch files:
// mailsneaker in $XDG_RUNTIME_DIR (which is 0700 and goes at logout), else
// mailsneaker/run in the user cache dir. It is created 0700, and made so if
// it exists.
func runtimeDir() (string, error) {
	var dir string
	if base := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(base) {
		dir = filepath.Join(base, "mailsneaker")
	} else {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, "mailsneaker", "run")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	// Windows has no mode bits: the profile's ACL keeps the dir private.
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", err
		}
	}
	return dir, nil
}
