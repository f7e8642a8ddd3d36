package autoconfig

import (
	"slices"

	"mailsneaker/accounts"
)

// provider is one entry of the built-in table.
type provider struct {
	domains   []string
	imapHost  string
	pop3Host  string // "" if the provider has no POP3
	imapPort  int    // 0: 993
	imapSec   accounts.Security
	localPart bool // the login is the local part, not the whole address
	hint      string
}

// providers lists the largest mail providers, as their help pages give
// the settings; an autoconfig lookup would leak nothing new for them but
// costs seconds.
func providers() []provider {
	return []provider{
		{domains: []string{"gmail.com", "googlemail.com"}, imapHost: "imap.gmail.com", pop3Host: "pop.gmail.com",
			hint: "Gmail needs an app password (Google account → Security → 2-Step Verification → App passwords), not your normal password."},
		{domains: []string{"outlook.com", "hotmail.com", "live.com", "msn.com", "hotmail.co.uk", "hotmail.de", "hotmail.fr",
			"outlook.de", "outlook.fr", "live.de", "live.fr", "live.co.uk"},
			imapHost: "outlook.office365.com", pop3Host: "outlook.office365.com",
			hint: "Microsoft is phasing out password logins for Outlook.com/Hotmail in favour of OAuth2; if the login is refused, this account cannot be watched with a password."},
		{domains: []string{"yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk", "yahoo.de", "yahoo.fr", "yahoo.es", "yahoo.it"},
			imapHost: "imap.mail.yahoo.com", pop3Host: "pop.mail.yahoo.com",
			hint: "Yahoo needs an app password (Account security → Generate app password)."},
		{domains: []string{"icloud.com", "me.com", "mac.com"}, imapHost: "imap.mail.me.com", localPart: true,
			hint: "iCloud needs an app-specific password (appleid.apple.com → Sign-In and Security); if the short user name is refused, try the whole address."},
		{domains: []string{"gmx.net", "gmx.de", "gmx.at", "gmx.ch"}, imapHost: "imap.gmx.net", pop3Host: "pop.gmx.net",
			hint: "Turn on POP3/IMAP access in the GMX settings first (E-Mail → Settings → POP3 & IMAP)."},
		{domains: []string{"gmx.com", "gmx.us", "gmx.co.uk", "gmx.fr"}, imapHost: "imap.gmx.com", pop3Host: "pop.gmx.com",
			hint: "Turn on POP3/IMAP access in the GMX settings first."},
		{domains: []string{"web.de"}, imapHost: "imap.web.de", pop3Host: "pop3.web.de",
			hint: "Turn on POP3/IMAP access in the WEB.DE settings first (E-Mail → Settings → POP3/IMAP)."},
		{domains: []string{"fastmail.com", "fastmail.fm", "fastmail.net", "fastmail.org", "fastmail.to", "messagingengine.com"},
			imapHost: "imap.fastmail.com", pop3Host: "pop.fastmail.com",
			hint: "Fastmail needs an app password (Settings → Privacy & Security → App passwords)."},
		{domains: []string{"mailbox.org"}, imapHost: "imap.mailbox.org", pop3Host: "pop3.mailbox.org"},
		{domains: []string{"proton.me", "protonmail.com", "protonmail.ch", "pm.me"}, imapHost: "127.0.0.1", imapPort: 1143, imapSec: accounts.StartTLS,
			hint: "Proton Mail works only through Proton Mail Bridge running on this computer: use the port and the password the Bridge shows, and set ca_file to the certificate the Bridge exports."},
		{domains: []string{"zoho.com", "zohomail.com"}, imapHost: "imap.zoho.com", pop3Host: "pop.zoho.com",
			hint: "Turn on IMAP or POP access in the Zoho Mail settings; with two-factor sign-in, use an app-specific password."},
		{domains: []string{"zoho.eu", "zohomail.eu"}, imapHost: "imap.zoho.eu", pop3Host: "pop.zoho.eu",
			hint: "Turn on IMAP or POP access in the Zoho Mail settings; with two-factor sign-in, use an app-specific password."},
		{domains: []string{"aol.com", "aim.com"}, imapHost: "imap.aol.com", pop3Host: "pop.aol.com",
			hint: "AOL needs an app password (Account security → Generate app password)."},
		{domains: []string{"yandex.ru", "yandex.com", "ya.ru", "yandex.by", "yandex.kz", "yandex.ua"},
			imapHost: "imap.yandex.com", pop3Host: "pop.yandex.com",
			hint: "Turn on access by mail clients in the Yandex Mail settings, and use an app password."},
	}
}

// builtin returns the table's settings for domain, or nil.
func builtin(local, domain string) []Candidate {
	email := local + "@" + domain
	for _, p := range providers() {
		if !slices.Contains(p.domains, domain) {
			continue
		}
		user := email
		if p.localPart {
			user = local
		}
		sec, port := p.imapSec, p.imapPort
		if sec == "" {
			sec = accounts.TLS
		}
		if port == 0 {
			port = accounts.DefaultPort(accounts.IMAP, sec)
		}
		cs := []Candidate{{Protocol: accounts.IMAP, Host: p.imapHost, Port: port, Security: sec, Username: user, Source: "built-in list", Hint: p.hint}}
		if p.pop3Host != "" {
			cs = append(cs, Candidate{Protocol: accounts.POP3, Host: p.pop3Host, Port: 995, Security: accounts.TLS, Username: user, Source: "built-in list", Hint: p.hint})
		}
		return cs
	}
	return nil
}
