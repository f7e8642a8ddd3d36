package setup

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"mailsneaker/accounts"
	"mailsneaker/autoconfig"
)

// form is the account form as the browser sent it. It never holds the
// password: that travels once from the browser to us and then lives in the
// passwordStore behind PwRef.
type form struct {
	Edit            bool   // editing an existing account
	Orig            string // its name before the edit
	Email           string
	Name            string
	Protocol        string
	Host            string
	Port            string
	Security        string
	Username        string
	Folders         []string // chosen folders (checkboxes)
	Known           []string // folders the server listed; empty if not fetched
	FoldersText     string   // comma-separated folders when Known is empty
	CAFile          string
	PasswordCommand string
	OpenWith        string // built-in opener of a clicked mail (open_with)
	Hint            string // from autoconfig
	Source          string // where the settings came from
	PwRef           string // reference to the kept password; set when rendering
	oauthForm              // how it logs in: password or "Sign in with …" (oauth_form.go)
}

// parseForm reads the account form of r.
func parseForm(r *http.Request) *form {
	v := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	return &form{
		Edit: v("mode") == "edit", Orig: v("orig"), Email: v("email"), Name: v("name"),
		Protocol: v("protocol"), Host: v("host"), Port: v("port"), Security: v("security"), Username: v("username"),
		Folders: r.PostForm["folder"], Known: r.PostForm["known"], FoldersText: v("folders"),
		CAFile: v("ca_file"), PasswordCommand: v("password_command"), Hint: v("hint"), Source: v("source"),
		oauthForm: parseOAuthForm(r),
		OpenWith:  v("open_with"),
	}
}

// account builds the account the form describes on top of base (the
// account being edited, or the zero value), so that keys the form does not
// show are kept.
func (f *form) account(base accounts.Account) (accounts.Account, []string) {
	var problems []string
	a := base
	a.Name = f.Name
	if a.Name == "" {
		a.Name = f.Email
	}
	a.Protocol = accounts.Protocol(f.Protocol)
	a.Host = f.Host
	a.Port = 0
	if f.Port != "" {
		p, err := strconv.Atoi(f.Port)
		if err != nil || p < 1 || p > 65535 {
			problems = append(problems, fmt.Sprintf("Port %q is not a port number (use 1-65535, e.g. 993).", f.Port))
		} else {
			a.Port = p
		}
	}
	a.Security = accounts.Security(f.Security)
	a.Username = f.Username
	a.Folders = nil
	if a.Protocol == accounts.IMAP {
		if len(f.Known) > 0 {
			for _, k := range f.Known { // in the server's order, only known ones
				if slices.Contains(f.Folders, k) {
					a.Folders = append(a.Folders, k)
				}
			}
		} else {
			for _, x := range strings.Split(f.FoldersText, ",") {
				if x = strings.TrimSpace(x); x != "" && !slices.Contains(a.Folders, x) {
					a.Folders = append(a.Folders, x)
				}
			}
		}
	} else {
		a.CountExisting = base.CountExisting
	}
	a.CAFile = f.CAFile
	a.PasswordCommand = f.PasswordCommand
	f.applyOAuth(&a, base)
	a.OpenWith = accounts.OpenWith(f.OpenWith)
	if err := a.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			_, msg, ok := strings.Cut(line, ": ") // drop the `account "x":` prefix
			if !ok || !strings.HasPrefix(line, "account ") {
				msg = line
			}
			problems = append(problems, upperFirst(msg)+".")
		}
	}
	return a, problems
}

// formFor fills the form from a saved account.
func formFor(a accounts.Account) *form {
	f := &form{Edit: true, Orig: a.Name, Name: a.Name, Protocol: string(a.Protocol), Host: a.Host,
		Security: string(a.Security), Username: a.Username, CAFile: a.CAFile, PasswordCommand: a.PasswordCommand,
		OpenWith: string(a.OpenWith)}
	if a.Port != 0 {
		f.Port = strconv.Itoa(a.Port)
	}
	if strings.Contains(a.Username, "@") {
		f.Email = a.Username
	}
	f.FoldersText = strings.Join(a.Folders, ", ")
	f.Folders = a.Folders
	f.oauthForm = oauthFormFor(a)
	return f
}

// use fills the server part of the form from a candidate.
func (f *form) use(c autoconfig.Candidate) {
	f.Protocol, f.Host, f.Port, f.Security, f.Username = string(c.Protocol), c.Host, strconv.Itoa(c.Port), string(c.Security), c.Username
	f.Hint, f.Source = c.Hint, c.Source
	f.Known, f.Folders = nil, nil
	if f.FoldersText == "" && c.Protocol == accounts.IMAP {
		f.FoldersText = accounts.DefaultFolder
	}
}

// candidateValue encodes a candidate for a "use this server" button.
func candidateValue(c autoconfig.Candidate) string {
	return strings.Join([]string{string(c.Protocol), c.Host, strconv.Itoa(c.Port), string(c.Security), c.Username}, "|")
}

// parseCandidate decodes candidateValue.
func parseCandidate(s string) (autoconfig.Candidate, bool) {
	p := strings.SplitN(s, "|", 5)
	if len(p) != 5 {
		return autoconfig.Candidate{}, false
	}
	port, err := strconv.Atoi(p[2])
	if err != nil {
		return autoconfig.Candidate{}, false
	}
	return autoconfig.Candidate{Protocol: accounts.Protocol(p[0]), Host: p[1], Port: port, Security: accounts.Security(p[3]), Username: p[4]}, true
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Describe says in words how the form connects: "IMAP, imap.example.org
// port 993, TLS, user ann".
func (f *form) Describe() string {
	if f.Host == "" {
		return ""
	}
	sec := map[string]string{"tls": "TLS", "starttls": "STARTTLS", "none": "no encryption"}[f.Security]
	return fmt.Sprintf("%s, %s port %s, %s, user %s", strings.ToUpper(f.Protocol), f.Host, f.Port, sec, f.Username)
}

// count formats n with thousands separators: 1,234.
func count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return count(n) + " " + one
	}
	return count(n) + " " + many
}
