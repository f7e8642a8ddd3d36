package poller

import (
	"fmt"
	"regexp"

	"github.com/emersion/go-imap/v2"

	"mailsneaker/accounts"
)

// imapLastNumber finds the limit a server names in its text, such as
// Dovecot's "(mail_max_userip_connections=10)".
var imapLastNumber = regexp.MustCompile(`(\d{1,4})\D*$`)

// imapSaidMax bounds the server's words quoted in a message to the user:
// room for an ALERT with a help address, not for a page of text.
const imapSaidMax = 300

// imapSaid is server text (an ALERT, a response code) fit to quote to the
// user: no control characters, at most imapSaidMax runes.
func imapSaid(s string) string { return clipRunes(pop3Clean(s), imapSaidMax) }

// imapLoginRefused explains a refused LOGIN by its response code (RFC 5530):
// "check the password" only when the server says the credentials are wrong
// (AUTHENTICATIONFAILED) or gives no code. err is the server's reply; the
// caller masks the password in ie and in the result (ie first: a password
// the clip cut in two would escape the mask).
func imapLoginRefused(a accounts.Account, ie *imap.Error, err error) *CheckError {
	refused := func(kind ErrorKind, format string, args ...any) *CheckError {
		return &CheckError{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: err}
	}
	switch ie.Code {
	case "", imap.ResponseCodeAuthenticationFailed:
		return refused(KindAuth, "login refused by %s: check the password", a.Host)
	case imap.ResponseCodeUnavailable:
		return refused(KindNetwork, "%s cannot log in now (temporarily unavailable)", a.Host)
	case imap.ResponseCodeLimit:
		limit := "no more"
		if m := imapLastNumber.FindStringSubmatch(ie.Text); m != nil {
			limit = "only " + m[1]
		}
		// KindProtocol, not KindAuth: the password was fine (the tray and
		// the setup page tell by CheckError.TooManyConnections).
		return refused(KindProtocol, "%s allows %s connections for user %q and they are taken; MailSneaker uses up to %d: lower max_connections or close another mail client",
			a.Host, limit, a.Username, a.MaxConnections)
	case imap.ResponseCodeInUse:
		return refused(KindProtocol, "%s refused the login: the mailbox is in use by another session; it will be tried again", a.Host)
	case imap.ResponseCodeAuthorizationFailed:
		return refused(KindAuth, "login refused by %s: the password is right but user %q may not use this mailbox: check the user name", a.Host, a.Username)
	case imap.ResponseCodeExpired:
		return refused(KindAuth, "login refused by %s: the password has expired: change it with your provider, then store the new one", a.Host)
	case imap.ResponseCodePrivacyRequired:
		return refused(KindConfig, "%s refuses to log in without encryption: set security to tls or starttls", a.Host)
	case imap.ResponseCodeAlert:
		return refused(KindAuth, "login refused by %s, which says: %s", a.Host, imapSaid(ie.Text))
	}
	return refused(KindAuth, "login refused by %s [%s]", a.Host, imapSaid(string(ie.Code)))
}
