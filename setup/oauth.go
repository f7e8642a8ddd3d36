package setup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"mailsneaker/accounts"
	"mailsneaker/autoconfig"
	"mailsneaker/oauth"
)

// "Sign in with Google/Microsoft" on the page.
//
// The button posts the form; the server starts an oauth.Flow (PKCE S256,
// random state) and answers with a page that goes on to the provider's
// authorization URL (meta refresh, and a link), in the same tab: that tab is the system browser the
// tray opened through launch.File, so no URL with the state ever goes
// through an opener's argv. The provider sends the browser back to
// http://127.0.0.1:PORT/oauth/callback on this server's own listener: a
// fixed path, as a registered loopback redirect must be, and outside the
// session (the provider cannot know the session secret). There the state
// is the guard: 192 random bits that only this server and the browser saw,
// compared in constant time, taken once, dead after SignInTTL. Only a
// redirect with a live state is let into the session: it is sent on to
// /s/<session>/signedin?ref=… (the code and state leave the address bar),
// which shows "Signed in as …" or what went wrong. The grant stays on the
// server until Save, which stores its refresh token in the keychain and
// the account (auth = "oauth2") in config.toml; an error anywhere saves
// nothing.

// detect finds whether f's address signs in with Google or Microsoft and
// notes it in the form; without a typed password, the page then offers
// the sign-in in place of the password field.
func (s *Server) detect(ctx context.Context, f *form, havePW bool) bool {
	d := autoconfig.DetectOAuth(ctx, f.Email, s.o.Autoconfig)
	if d.Provider == "" {
		return false
	}
	f.Detected, f.DetectedVia = d.Provider, d.Via
	if f.Login == "" {
		f.Login = "password"
		if !havePW {
			f.Login = d.Provider
		}
	}
	s.log.Info("sign-in provider detected", "provider", d.Provider, "via", d.Via)
	return true
}

// redirectURL is the flow's redirect URL: this server's own listener.
func (s *Server) redirectURL() string { return "http://" + s.host + oauth.CallbackPath }

// startSignIn answers "Sign in with …" for account a of the form in v: a
// redirect to the provider, or the form again with what is wrong.
func (s *Server) startSignIn(w http.ResponseWriter, r *http.Request, v *view, a accounts.Account) {
	f := v.Form
	f.SignRef = ""
	flow, err := oauth.NewFlow(a, s.redirectURL(), s.o.OAuth)
	if err != nil {
		v.Error = upperFirst(err.Error()) + "."
		v.Manual = true
		s.render(w, "details", v)
		return
	}
	ref, err := randomToken()
	if err != nil {
		v.Error = err.Error()
		s.render(w, "details", v)
		return
	}
	si := &signIn{ref: ref, flow: flow, acct: a, form: *f, title: v.Title}
	si.form.PwRef = "" // a typed password is not kept for a sign-in
	s.signins.add(si)
	s.log.Info("sign-in started", "account", a.Name, "provider", a.OAuthProvider)
	// A page that goes on to the provider, not a redirect: after a form
	// POST, Chrome holds a redirect to the page's form-action 'self'.
	s.render(w, "signin-go", &view{Title: "Sign in with " + f.ProviderTitle(), SignInURL: flow.AuthCodeURL(), Final: true})
}

// handleCallback takes the provider's redirect (GET /oauth/callback,
// outside the session; see above). Nothing of its query is logged.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	si, first := s.signins.claim(q.Get("state"))
	switch {
	case si == nil:
		s.log.Warn("setup page refused a sign-in redirect", "why", "unknown or expired state")
		s.lost(w, "This sign-in answer does not belong to a sign-in in progress on this computer (wrong or expired state), so it was ignored and nothing was saved. Go back to the MailSneaker page and press Sign in again.")
		return
	case !first:
		s.log.Warn("setup page refused a sign-in redirect", "why", "second redirect")
		s.lost(w, "This sign-in has already finished; its second answer was ignored and changed nothing. Go back to the MailSneaker tab.")
		return
	}
	s.touch()
	g, err := si.flow.Finish(r.Context(), q)
	if err != nil {
		var oe *oauth.Error
		msg := err.Error()
		if errors.As(err, &oe) {
			msg = oe.Msg // the cause may be long; the message says what to do
		}
		s.log.Info("sign-in failed", "account", si.acct.Name, "err", msg)
		s.signins.settle(si, nil, upperFirst(msg)+".")
	} else {
		s.log.Info("signed in", "account", si.acct.Name, "provider", si.acct.OAuthProvider)
		s.signins.settle(si, g, "")
	}
	// Into the session: the code and the state leave the address bar.
	http.Redirect(w, r, s.prefix+"/signedin?"+url.Values{"ref": {si.ref}}.Encode(), http.StatusSeeOther)
}

// lost answers a redirect that does not lead into the session: a page of
// its own, with no link into the session and no stylesheet.
func (s *Server) lost(w http.ResponseWriter, msg string) {
	var b bytes.Buffer
	if err := s.pages.t.ExecuteTemplate(&b, "signin-lost", &view{Title: "Sign-in not accepted", Error: msg, Final: true}); err != nil {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	w.Write(b.Bytes())
}

// handleSignedIn shows the outcome of a sign-in: the form as it was, with
// "Signed in as …" and Save, or what went wrong and Sign in again.
func (s *Server) handleSignedIn(w http.ResponseWriter, r *http.Request) {
	si, ok := s.signins.byRef(r.URL.Query().Get("ref"))
	if !ok {
		s.render(w, "start", &view{Title: "Add a mail account", Form: &form{},
			Error: fmt.Sprintf("This sign-in has expired (after %d minutes) or the page was restarted; nothing was saved. Start again.", int(SignInTTL.Minutes()))})
		return
	}
	f := si.form
	v := &view{Title: si.title, Form: &f}
	switch {
	case si.grant != nil:
		f.SignRef = si.ref
		v.SignedIn = fmt.Sprintf("Signed in with %s as %s.", f.ProviderTitle(), si.acct.Username)
	case si.err != "":
		v.Error = si.err
	default:
		v.Error = "The sign-in has not finished: finish it in the provider's page, or press Sign in again."
	}
	s.render(w, "details", v)
}

// keychain is the keychain that holds the grants: the page's Secrets,
// which for a sign-in must be the real one.
func (s *Server) keychain() (*accounts.Keychain, error) {
	if kc, ok := s.o.Secrets.(*accounts.Keychain); ok {
		return kc, nil
	}
	return nil, errors.New("this setup page has no keychain to keep a sign-in in")
}

// sourceOptions are the token options of a test login, from Options.OAuth.
func (s *Server) sourceOptions() *oauth.SourceOptions {
	if s.o.OAuth == nil {
		return nil
	}
	return &oauth.SourceOptions{Timeout: s.o.OAuth.Timeout, HTTPClient: s.o.OAuth.HTTPClient}
}

// oauthAccount is handleAccount for an account that signs in (auth =
// "oauth2"): test, save, or show the form.
func (s *Server) oauthAccount(w http.ResponseWriter, r *http.Request, v *view, base, a accounts.Account, action string) {
	f := v.Form
	var grant *oauth.Grant
	if f.SignRef != "" {
		si, ok := s.signins.byRef(f.SignRef)
		switch {
		case !ok || si.grant == nil:
			f.SignRef = ""
			v.Error = fmt.Sprintf("The sign-in has expired (after %d minutes): sign in again.", int(SignInTTL.Minutes()))
		case !sameSignIn(si.acct, a) || !sameServer(si.acct, a):
			// As a stored password (sameServer): a sign-in goes only to
			// the server it was made for.
			f.SignRef = ""
			v.Error = "The sign-in settings or the server changed since you signed in: sign in again."
		default:
			grant = si.grant
			v.SignedIn = fmt.Sprintf("Signed in with %s as %s.", f.ProviderTitle(), si.acct.Username)
		}
		if v.Error != "" {
			s.render(w, "details", v)
			return
		}
	}
	if action != "test" && action != "folders" && action != "save" && action != "saveanyway" {
		s.render(w, "details", v)
		return
	}
	kc, kerr := s.keychain()
	// Where the test login gets its access token: the new sign-in, the
	// stored one of the account being edited (for the same client), or
	// oauth_command.
	var src *oauth.Source
	switch {
	case grant != nil:
		src = grant.Source(a, s.sourceOptions())
	case a.OAuthCommand != "":
		src = oauth.NewSource(a, nil, s.sourceOptions())
	case f.Edit && base.OAuth2() && sameSignIn(base, a) && !sameServer(base, a):
		v.Error = upperFirst(errSignInServerChanged(base).Error()) + "."
		s.render(w, "details", v)
		return
	case f.Edit && base.OAuth2() && sameSignIn(base, a) && kerr == nil:
		stored := a
		stored.Name = f.Orig // the grant is stored under the old name until Save
		src = oauth.NewSource(stored, kc, s.sourceOptions())
	default:
		v.Error = fmt.Sprintf("Sign in with %s first: press the Sign in button.", f.ProviderTitle())
		s.render(w, "details", v)
		return
	}
	if action != "saveanyway" {
		o := s.pollerOptions(nil)
		o.OAuth = src
		res, folders := s.verify(r.Context(), a, o, action != "save")
		if !v.takeResult(a, res, folders, action) {
			s.render(w, "details", v)
			return
		}
	}
	if kerr != nil {
		v.Error = upperFirst(kerr.Error()) + "."
		s.render(w, "details", v)
		return
	}
	s.saveOAuth(w, r, v, kc, base, a, grant)
}

// saveOAuth stores the grant first and then the account, as save does
// with a password: a keychain failure leaves nothing half-written, and a
// failed config write takes a new account's grant back out. oauthAccount
// has made sure a has its tokens: grant, oauth_command, or base's stored
// grant for the same client and server.
func (s *Server) saveOAuth(w http.ResponseWriter, r *http.Request, v *view, kc *accounts.Keychain, base, a accounts.Account, grant *oauth.Grant) {
	ctx := r.Context()
	f := v.Form
	fail := func(msg string) {
		v.Error = msg
		s.render(w, "details", v)
	}
	if msg := s.nameProblem(v, a); msg != "" {
		fail(msg)
		return
	}
	renamed := f.Edit && a.Name != f.Orig
	switch {
	case grant != nil:
		if err := oauth.SaveGrant(ctx, kc, a.Name, grant); err != nil {
			s.log.Warn("keychain refused the sign-in", "account", a.Name, "err", err)
			fail("The sign-in could not be stored in the keychain, so nothing was saved: " + err.Error() +
				". Unlock or start the keychain and press Save again.")
			return
		}
	case renamed:
		if err := oauth.RenameGrant(ctx, kc, f.Orig, a.Name); err != nil {
			fail("The sign-in could not be moved to the new name in the keychain, so nothing was saved: " + err.Error())
			return
		}
	}
	var err error
	if f.Edit {
		err = accounts.UpdateAccount(s.path, f.Orig, a)
	} else {
		err = accounts.AddAccount(s.path, a)
	}
	if err != nil {
		// config.toml still has the account as it was: the keychain goes
		// back to match it, or the account would lose its sign-in (a
		// rename) and a grant be left where no oauth2 account has it.
		switch {
		case grant != nil && (!f.Edit || renamed || !base.OAuth2()):
			if derr := oauth.DeleteGrant(ctx, kc, a.Name); derr != nil {
				s.log.Warn("cannot delete the sign-in from the keychain", "account", a.Name, "err", derr)
			}
		case renamed:
			if rerr := oauth.RenameGrant(ctx, kc, a.Name, f.Orig); rerr != nil {
				s.log.Warn("cannot move the sign-in back to its account", "account", f.Orig, "err", rerr)
			}
		}
		fail("The account was not saved: " + err.Error())
		return
	}
	if f.Edit && !base.OAuth2() {
		// The account signed in with a password before: it is not used now.
		s.o.Secrets.Delete(ctx, f.Orig)
	}
	if renamed && grant != nil {
		s.dropGrant(ctx, base, f.Orig) // the new grant is under the new name
	}
	s.signins.forget(f.SignRef)
	kept := ""
	if grant != nil {
		kept = "its sign-in"
	}
	s.saved(ctx, w, f, a.Name, kept, "auth", "oauth2")
}

// dropGrant deletes the stored grant of account name, if base (the
// account as saved) signed in; no grant is not an error.
func (s *Server) dropGrant(ctx context.Context, base accounts.Account, name string) {
	if base.OAuth2() {
		s.removeGrant(ctx, name)
	}
}

// removeGrant deletes the grant of the removed account name, if it had
// one and the page keeps grants.
func (s *Server) removeGrant(ctx context.Context, name string) {
	if kc, err := s.keychain(); err == nil {
		if err := oauth.DeleteGrant(ctx, kc, name); err != nil {
			s.log.Warn("cannot delete the sign-in from the keychain", "account", name, "err", err)
		}
	}
}

// errSignInServerChanged says why the stored sign-in of saved is not used:
// its tokens go only where saved logs in, as a stored password does.
func errSignInServerChanged(saved accounts.Account) error {
	saved = saved.WithDefaults()
	return fmt.Errorf("the server settings changed: sign in again (the stored sign-in is only sent to %s port %d as %s, with %s)",
		saved.Host, saved.Port, saved.Username, saved.Security)
}
