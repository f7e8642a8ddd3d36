package setup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"mailsneaker/accounts"
	"mailsneaker/autoconfig"
	"mailsneaker/poller"
)

// maxFormBytes bounds a POSTed form.
const maxFormBytes = 64 << 10

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleStart)
	mux.HandleFunc("POST /lookup", s.handleLookup)
	mux.HandleFunc("GET /manual", s.handleManual)
	mux.HandleFunc("POST /account", s.handleAccount)
	mux.HandleFunc("GET /accounts", s.handleAccounts)
	mux.HandleFunc("GET /edit", s.handleEdit)
	mux.HandleFunc("POST /remove", s.handleRemove)
	mux.HandleFunc("POST /cancel", s.handleCancel)
	mux.HandleFunc("GET /style.css", s.handleCSS)
	mux.HandleFunc("GET /signedin", s.handleSignedIn)
	return mux
}

// result is the outcome of a connection test, in words.
type result struct {
	OK     bool
	Msg    string
	Detail string
	Cert   *certView // the certificate that was not trusted, if that failed
}

// view is what a template renders.
type view struct {
	Title        string
	Form         *form
	Error        string   // one problem, shown on top
	Problems     []string // problems with the settings
	Result       *result
	Keychain     string // the keychain could not store the password: why
	Manual       bool   // open the manual settings
	SaveAnyway   bool   // offer "Save anyway" (the test failed)
	Alternatives []candidateButton
	Accounts     []accounts.Account
	Remove       string // account to confirm removal of
	Message      string // done page text
	Final        bool   // the server stops after this page
	ConfigPath   string
	Problem      *problemView // what the last check of the account being edited said
	Focus        string       // the id of the field the page opens with the cursor in
	SignedIn     string       // "Signed in with Google as …": a sign-in waits for Save
	SignInURL    string       // the provider's authorization URL the sign-in goes on to
}

// candidateButton is another server autoconfig found.
type candidateButton struct {
	Value, Label string
}

func (s *Server) handleStart(w http.ResponseWriter, r *http.Request) {
	s.render(w, "start", &view{Title: "Add a mail account", Form: &form{}})
}

func (s *Server) handleManual(w http.ResponseWriter, r *http.Request) {
	f := &form{Protocol: "imap", Security: "tls", Port: "993", FoldersText: accounts.DefaultFolder}
	s.render(w, "details", &view{Title: "Add a mail account", Form: f, Manual: true})
}

func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := parseForm(r)
	pw, havePW := s.formPassword(r)
	v := &view{Title: "Add a mail account", Form: f}
	_, domain, err := autoconfig.SplitAddress(f.Email)
	// Google and Microsoft take a sign-in in place of the password (oauth.go).
	signIn := err == nil && s.detect(r.Context(), f, havePW)
	switch {
	case err != nil:
		v.Error = upperFirst(err.Error()) + "."
	case !havePW && !signIn:
		v.Error = "Type the password of the account."
	}
	if v.Error != "" {
		s.render(w, "start", v)
		return
	}
	f.Email = strings.TrimSpace(f.Email)
	f.Name = f.Email
	if havePW {
		f.PwRef = s.pw.keep(pw)
	}
	cands, err := autoconfig.Lookup(r.Context(), f.Email, s.o.Autoconfig)
	if len(cands) == 0 && f.Detected != "" {
		cands, err = autoconfig.OAuthServers(f.Detected, f.Email), nil // hosted at Google or Microsoft 365
	}
	if err != nil || len(cands) == 0 {
		s.log.Info("autoconfig found nothing", "domain", domain, "err", err)
		// A guess to edit rather than an empty form.
		f.use(autoconfig.Candidate{Protocol: accounts.IMAP, Host: "imap." + domain, Port: 993, Security: accounts.TLS, Username: f.Email})
		f.Source = ""
		v.Error = fmt.Sprintf("No settings were found for %s. The form holds a guess: check the server settings below (your provider's help pages list them).", domain)
		v.Manual = true
		s.render(w, "details", v)
		return
	}
	f.use(cands[0])
	for _, c := range cands[1:] {
		v.Alternatives = append(v.Alternatives, candidateButton{Value: candidateValue(c), Label: (&form{Protocol: string(c.Protocol), Host: c.Host,
			Port: fmt.Sprint(c.Port), Security: string(c.Security), Username: c.Username}).Describe()})
	}
	s.log.Info("autoconfig found settings", "domain", domain, "source", cands[0].Source, "candidates", len(cands))
	s.render(w, "details", v)
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := parseForm(r)
	pw, havePW := s.formPassword(r)
	v := &view{Title: "Add a mail account", Form: f}
	if f.Edit {
		v.Title = "Edit " + f.Orig
	}
	// A re-rendered page carries a fresh one-time reference, never the password.
	keep := func() {
		if havePW {
			f.PwRef = s.pw.keep(pw)
		}
	}
	if c := r.PostForm.Get("use"); c != "" {
		if cand, ok := parseCandidate(c); ok {
			f.use(cand)
		}
		keep()
		s.render(w, "details", v)
		return
	}
	if r.PostForm.Get("usepassword") != "" {
		f.Login = "password"
		keep()
		s.render(w, "details", v)
		return
	}
	signin := r.PostForm.Get("signin")
	if signin != "" {
		f.Login = signin
	}
	base, err := s.baseAccount(f)
	if err != nil {
		v.Error = err.Error()
		keep()
		s.render(w, "details", v)
		return
	}
	a, problems := f.account(base)
	if len(problems) > 0 {
		v.Problems, v.Manual = problems, true
		keep()
		s.render(w, "details", v)
		return
	}
	action := r.PostForm.Get("action")
	if signin != "" {
		s.startSignIn(w, r, v, a)
		return
	}
	if a.OAuth2() {
		s.oauthAccount(w, r, v, base, a, action)
		return
	}
	switch action {
	case "test", "folders", "save":
		res, folders := s.test(r.Context(), f, base, a, pw, havePW, action != "save")
		if !v.takeResult(a, res, folders, action) {
			keep()
			s.render(w, "details", v)
			return
		}
		s.save(w, r, v, base, a, pw, havePW)
	case "saveanyway":
		s.save(w, r, v, base, a, pw, havePW)
	default:
		keep()
		s.render(w, "details", v)
	}
}

// takeResult puts a test of a (its result, and the folders it listed
// when asked for) on the page. It reports whether the Save goes on: the
// action was save and the test passed; else the page shows the result,
// with all fields and "Save anyway" after a failed one.
func (v *view) takeResult(a accounts.Account, res *result, folders []string, action string) bool {
	f := v.Form
	if folders != nil {
		f.Known, f.Folders = folders, a.Folders
		if len(f.Folders) == 0 {
			f.Folders = []string{accounts.DefaultFolder}
		}
	}
	v.Result = res
	if action == "save" && res.OK {
		return true
	}
	v.SaveAnyway = !res.OK && action == "save"
	v.Manual = v.Manual || !res.OK
	return false
}

// baseAccount is the saved account being edited, or the zero value.
func (s *Server) baseAccount(f *form) (accounts.Account, error) {
	if !f.Edit {
		return accounts.Account{}, nil
	}
	cfg, err := s.loadConfig()
	if err != nil {
		return accounts.Account{}, err
	}
	a, ok := cfg.Account(f.Orig)
	if !ok {
		return accounts.Account{}, fmt.Errorf("the account %q is no longer in %s", f.Orig, s.path)
	}
	return a, nil
}

// formPassword is the password typed into the form, or the one kept from
// an earlier request of the same form.
func (s *Server) formPassword(r *http.Request) (string, bool) {
	if pw := r.PostForm.Get("password"); pw != "" {
		return pw, true
	}
	return s.pw.take(r.PostForm.Get("pwref"))
}

// passwordSource says where a test of a gets the password from: the
// command, the typed password, or (when editing base, and only if a still
// logs in to the same server as the same user) the keychain.
func (s *Server) passwordSource(f *form, base, a accounts.Account, pw string, havePW bool) (func(context.Context) (string, error), error) {
	switch {
	case a.PasswordCommand != "":
		return func(ctx context.Context) (string, error) { return accounts.Password(ctx, a, nil) }, nil
	case havePW:
		return func(context.Context) (string, error) { return pw, nil }, nil
	case f.Edit && sameServer(base, a):
		return func(ctx context.Context) (string, error) { return s.o.Secrets.Get(ctx, f.Orig) }, nil
	case f.Edit:
		return nil, errServerChanged(base)
	}
	return nil, errors.New("type the password of the account first")
}

// sameServer says whether a logs in where saved does, as the same user and
// with the same security, so that saved's stored password may be sent for
// a. Anything else could hand the password to another server, or in clear
// text.
func sameServer(saved, a accounts.Account) bool {
	saved, a = saved.WithDefaults(), a.WithDefaults()
	return a.Protocol == saved.Protocol && strings.EqualFold(a.Host, saved.Host) && a.Port == saved.Port &&
		a.Username == saved.Username && a.Security == saved.Security
}

// errServerChanged says why the stored password of saved is not used.
func errServerChanged(saved accounts.Account) error {
	saved = saved.WithDefaults()
	return fmt.Errorf("the server settings changed: type the password again (the stored password is only sent to %s port %d as %s, with %s)",
		saved.Host, saved.Port, saved.Username, saved.Security)
}

// test logs in once; with folders set it also lists the IMAP folders.
func (s *Server) test(ctx context.Context, f *form, base, a accounts.Account, pw string, havePW, folders bool) (*result, []string) {
	src, err := s.passwordSource(f, base, a, pw, havePW)
	if err != nil {
		return &result{Msg: upperFirst(err.Error()) + "."}, nil
	}
	return s.verify(ctx, a, s.pollerOptions(src), folders)
}

// verify logs in to a with o once; with folders set it also lists the
// IMAP folders.
func (s *Server) verify(ctx context.Context, a accounts.Account, o *poller.Options, folders bool) (*result, []string) {
	ctx, cancel := context.WithTimeout(ctx, s.o.CheckTimeout)
	defer cancel()
	a = a.WithDefaults()
	in, err := s.o.Verify(ctx, a, o)
	if err != nil {
		s.log.Info("connection test failed", "account", a.Name, "kind", poller.KindOf(err))
		var ce *poller.CheckError
		if errors.As(err, &ce) {
			res := &result{Msg: upperFirst(ce.Msg)}
			if ce.Err != nil {
				res.Detail = ce.Err.Error()
			}
			if c := ce.Certificate(); c != nil {
				res.Cert = describeCert(a, c)
			}
			return res, nil
		}
		return &result{Msg: upperFirst(err.Error())}, nil
	}
	msg := "Connected — " + plural(in.Messages, "message", "messages")
	if in.Unread >= 0 {
		msg += ", " + count(in.Unread) + " unread"
	}
	s.log.Info("connection test passed", "account", a.Name)
	res := &result{OK: true, Msg: msg}
	if !folders || a.Protocol != accounts.IMAP {
		return res, nil
	}
	list, err := s.o.ListFolders(ctx, a, o)
	if err != nil {
		res.Detail = "The folder list could not be read: " + err.Error()
		return res, nil
	}
	return res, list
}

func (s *Server) pollerOptions(pw func(context.Context) (string, error)) *poller.Options {
	var o poller.Options
	if s.o.Poller != nil {
		o = *s.o.Poller
	}
	o.Password = pw
	return &o
}

// save stores the password first and then the account, so that a keychain
// failure leaves nothing half-written; a failed config write takes the new
// keychain entry back out. base is the account being edited.
func (s *Server) save(w http.ResponseWriter, r *http.Request, v *view, base, a accounts.Account, pw string, havePW bool) {
	ctx := r.Context()
	f := v.Form
	keep := func() {
		if havePW {
			f.PwRef = s.pw.keep(pw)
		}
	}
	fail := func(msg string) {
		v.Error = msg
		keep()
		s.render(w, "details", v)
	}
	if msg := s.nameProblem(v, a); msg != "" {
		fail(msg)
		return
	}
	if f.Edit && a.PasswordCommand == "" && !havePW && !sameServer(base, a) {
		// Keeping the stored password would send it to the new server.
		v.Manual = true
		fail(upperFirst(errServerChanged(base).Error()) + ".")
		return
	}
	renamed := f.Edit && a.Name != f.Orig
	var stored bool // a keychain entry under a.Name was written now
	var err error
	if a.PasswordCommand == "" {
		secret, have := pw, havePW
		if !have && renamed {
			// The entry is keyed by the account name: move it.
			if secret, err = s.o.Secrets.Get(ctx, f.Orig); err == nil {
				have = true
			}
		}
		if !have && !f.Edit {
			fail("Type the password of the account (or set a password command).")
			return
		}
		if have {
			if err := s.o.Secrets.Set(ctx, a.Name, secret); err != nil {
				s.log.Warn("keychain refused the password", "account", a.Name, "err", err)
				v.Keychain = keychainMessage(err)
				v.Manual = true
				keep()
				s.render(w, "details", v)
				return
			}
			stored = true
		}
	}
	if f.Edit {
		err = accounts.UpdateAccount(s.path, f.Orig, a)
	} else {
		err = accounts.AddAccount(s.path, a)
	}
	if err != nil {
		if stored && (!f.Edit || renamed) { // no account has that name in config.toml
			s.o.Secrets.Delete(ctx, a.Name)
		}
		fail("The account was not saved: " + err.Error())
		return
	}
	if f.Edit && (renamed || a.PasswordCommand != "") {
		// The old entry is no longer used; a missing one is fine.
		s.o.Secrets.Delete(ctx, f.Orig)
	}
	if f.Edit {
		s.dropGrant(ctx, base, f.Orig) // it signed in before
	}
	kept := ""
	if a.PasswordCommand == "" {
		kept = "its password"
	}
	s.saved(ctx, w, f, a.Name, kept)
}

// nameProblem says why a cannot be saved under its name ("" when it
// can): the config cannot be read, or another account has the name (then
// the page shows all fields, so the name can be changed).
func (s *Server) nameProblem(v *view, a accounts.Account) string {
	cfg, err := s.loadConfig()
	if err != nil {
		return err.Error()
	}
	f := v.Form
	if _, taken := cfg.Account(a.Name); taken && (!f.Edit || a.Name != f.Orig) {
		v.Manual = true
		return fmt.Sprintf("There is already an account named %q: choose another name.", a.Name)
	}
	return ""
}

// saved ends a successful Save, with a password or a sign-in: the engine
// runs the new accounts, an edited account is checked now (an account
// whose settings did not change goes on as it runs, maybe minutes into a
// backoff, and must try its new password or grant at once), and the page
// says so. kept names what is in the keychain now ("" for nothing); attrs
// go to the log line.
func (s *Server) saved(ctx context.Context, w http.ResponseWriter, f *form, name, kept string, attrs ...any) {
	s.noteProblem(f.Orig, nil)
	s.tellEngine(ctx)
	if f.Edit {
		s.checkNow(name)
	}
	s.log.Info("account saved", append([]any{"account", name, "edit", f.Edit}, attrs...)...)
	msg := fmt.Sprintf("The account %q is saved", name)
	if kept != "" {
		msg += " and " + kept + " is in the keychain"
	}
	s.render(w, "done", &view{Title: "Saved", Final: true, Message: msg + ". It appears in the tray menu now; you can close this tab.", ConfigPath: s.path})
	s.stop("saved")
}

// keychainMessage explains a keychain failure and what to do instead.
func keychainMessage(err error) string {
	why := err.Error()
	for _, kind := range []error{accounts.ErrNoSecretService, accounts.ErrNoSessionBus, accounts.ErrKeyringLocked, accounts.ErrKeychainTimeout} {
		if errors.Is(err, kind) {
			why, _, _ = strings.Cut(why, ": ")
			why = upperFirst(strings.TrimPrefix(why, "the "))
			break
		}
	}
	return "The password could not be stored in the keychain. " + strings.TrimSuffix(why, ".") +
		". Nothing was saved, and MailSneaker never writes the password in clear text. " +
		"Unlock or start the keychain and press Save again, or give a password command below: " +
		"a command that prints the password, e.g. pass show mail/work."
}

func (s *Server) handleAccounts(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.loadConfig()
	v := &view{Title: "Accounts", ConfigPath: s.path}
	if err != nil {
		v.Error = err.Error()
	} else {
		v.Accounts = cfg.Accounts
	}
	s.render(w, "accounts", v)
}

func (s *Server) handleEdit(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	cfg, err := s.loadConfig()
	if err != nil {
		s.render(w, "accounts", &view{Title: "Accounts", Error: err.Error(), ConfigPath: s.path})
		return
	}
	a, ok := cfg.Account(name)
	if !ok {
		s.render(w, "accounts", &view{Title: "Accounts", Error: fmt.Sprintf("There is no account named %q.", name), Accounts: cfg.Accounts, ConfigPath: s.path})
		return
	}
	v := &view{Title: "Edit " + a.Name, Form: formFor(a), Manual: true, Problem: problemOf(a, s.problem(a.Name))}
	if r.URL.Query().Get("focus") == "password" {
		v.Focus = "password"
	}
	s.render(w, "details", v)
}

func (s *Server) handleRemove(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	name := r.PostForm.Get("name")
	v := &view{Title: "Accounts", ConfigPath: s.path}
	if r.PostForm.Get("confirm") != "yes" {
		v.Title, v.Remove = "Remove "+name, name
		s.render(w, "remove", v)
		return
	}
	if err := accounts.RemoveAccount(s.path, name); err != nil {
		v.Error = "The account was not removed: " + err.Error()
	} else {
		var ke *accounts.KeychainError
		if err := s.o.Secrets.Delete(r.Context(), name); err != nil && !(errors.As(err, &ke) && ke.Kind == accounts.ErrNoPassword) {
			v.Error = fmt.Sprintf("The account %q is removed, but its password could not be deleted from the keychain: %v", name, err)
		} else {
			v.Message = fmt.Sprintf("The account %q is removed, with its password.", name)
		}
		s.removeGrant(r.Context(), name)
		s.tellEngine(r.Context())
		s.log.Info("account removed", "account", name)
	}
	if cfg, err := s.loadConfig(); err == nil {
		v.Accounts = cfg.Accounts
	}
	s.render(w, "accounts", v)
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.render(w, "done", &view{Title: "Cancelled", Final: true, Message: "Nothing was changed. You can close this tab."})
	s.stop("cancelled")
}

func (s *Server) handleCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(s.pages.css)
}

// tellEngine gives the engine the accounts of the config file as saved.
func (s *Server) tellEngine(ctx context.Context) {
	if s.o.Engine == nil {
		return
	}
	cfg, err := s.loadConfig()
	if err == nil {
		err = s.o.Engine.SetAccounts(ctx, cfg.Accounts)
	}
	if err != nil {
		s.log.Warn("cannot tell the running app about the change", "err", err)
	}
}

// checkNow asks the engine, if it can, to check account name at once.
func (s *Server) checkNow(name string) {
	c, ok := s.o.Engine.(interface{ CheckNow(account string) error })
	if !ok {
		return
	}
	if err := c.CheckNow(name); err != nil {
		s.log.Warn("cannot ask the running app to check the account", "account", name, "err", err)
	}
}

// loadConfig reads the config file; a missing one is an empty config.
func (s *Server) loadConfig() (*accounts.Config, error) {
	cfg, err := accounts.Load(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &accounts.Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the config file has errors; fix them first: %w", err)
	}
	return cfg, nil
}
