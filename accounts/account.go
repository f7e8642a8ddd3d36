// Package accounts describes the mail accounts MailSneaker watches: the config
// file (TOML in the user config dir), its validation, and where passwords come
// from (the OS keychain, or a password_command). Of ours it imports only internal/safefile.
package accounts

import (
	"net"
	"slices"
	"strconv"
	"time"
)

// Protocol is the mail protocol of an account.
type Protocol string

// Protocols MailSneaker speaks.
const (
	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
)

// Security is how the connection to the server is protected.
type Security string

// Security modes. None is only ever used when the config says so explicitly.
const (
	TLS      Security = "tls"      // implicit TLS (993, 995)
	StartTLS Security = "starttls" // STARTTLS / STLS on the plain port (143, 110)
	None     Security = "none"     // clear text
)

// Account is one mailbox to watch, as written in config.toml. Defaults are
// already applied to an Account returned by Load.
type Account struct {
	Name           string
	Protocol       Protocol
	Host           string
	Port           int
	Security       Security
	Username       string
	Folders        []string      // IMAP only; default ["INBOX"]; AllFolders ("*") stands for every other folder
	PollInterval   time.Duration // POP3, and IMAP servers without IDLE; ≥ 30s
	MaxConnections int           // IMAP: connections held at most, the check connection included; 1-10, default 3
	// FolderPollInterval is how often IMAP folders without an IDLE
	// connection of their own are checked by STATUS; ≥ 10s, default 2m.
	FolderPollInterval time.Duration
	CAFile             string // extra trusted CAs (PEM), for self-hosted servers
	PasswordCommand    string // run with sh -c; first line of stdout is the password
	CountExisting      bool   // POP3: mail on the server at the first check counts as new
	MarkOnServer       bool   // IMAP: Mark all read also sets \Seen on the server
	OpenCommand        string // optional: run when the user clicks one of its mails; {placeholders} become argv elements
	URL                string // optional: opened when the user clicks one of its mails

	// Auth is how the account logs in: AuthPassword ("" too) or AuthOAuth2.
	// The oauth_* keys and sasl_mechanism are for AuthOAuth2 only; package
	// oauth turns them into an OAuth2 client.
	Auth              Auth
	OAuthProvider     string   // "google", "microsoft" or "custom"
	OAuthClientID     string   // optional where the build has a default for the provider
	OAuthClientSecret string   // optional; a desktop client's "secret" is not secret
	OAuthAuthURL      string   // custom only: authorization endpoint
	OAuthTokenURL     string   // custom only: token endpoint
	OAuthScopes       []string // custom only; google and microsoft have built-in scopes
	OAuthCommand      string   // optional: sh -c; first line of stdout is a fresh access token
	SASLMechanism     SASLMechanism

	Disabled   bool     // enabled = false: not watched at all (no connection); "Pause" in the tray
	NoNotify   bool     // notify = false: counted, but no desktop notification
	Sound      string   // notification sound: a freedesktop sound name or a file; "" is silent
	QuietFrom  []string // sender patterns (path.Match, case-insensitive) counted but never notified
	IgnoreFrom []string // sender patterns neither counted nor notified
	OpenWith   OpenWith // built-in way to open a clicked mail when open_command is empty
}

// Auth is how an account logs in.
type Auth string

// Auth methods; "" means AuthPassword.
const (
	AuthPassword Auth = "password" // LOGIN / USER+PASS with the keychain or password_command
	AuthOAuth2   Auth = "oauth2"   // SASL XOAUTH2 or OAUTHBEARER with an OAuth2 access token
)

// OAuth2 reports whether the account logs in with an OAuth2 access token.
func (a Account) OAuth2() bool { return a.Auth == AuthOAuth2 }

// SASLMechanism is the SASL mechanism of an oauth2 account.
type SASLMechanism string

// SASL mechanisms; "" means SASLAuto.
const (
	SASLAuto        SASLMechanism = "auto"        // what the server advertises, OAUTHBEARER first
	SASLXOAuth2     SASLMechanism = "xoauth2"     // Google's and Microsoft's XOAUTH2
	SASLOAuthBearer SASLMechanism = "oauthbearer" // RFC 7628
)

// OAuth providers with built-in endpoints and scopes, and "custom".
const (
	ProviderGoogle    = "google"
	ProviderMicrosoft = "microsoft"
	ProviderCustom    = "custom"
)

// OpenWith names a built-in way to open one mail.
type OpenWith string

// Built-in openers: each opens the very mail where the client allows it.
const (
	OpenThunderbird OpenWith = "thunderbird" // thunderbird mid:<id>
	OpenGmail       OpenWith = "gmail"       // Gmail's web search by rfc822msgid:
	OpenOutlook     OpenWith = "outlook"     // Outlook on the web (it has no link by Message-ID)
	OpenDefault     OpenWith = "default"     // the system's handler of mid: URLs (RFC 2392)
)

// General holds the [general] table of config.toml.
type General struct {
	Notify     bool   // desktop notifications for new mail (default true)
	QuietHours string // "22:00-07:00": no notifications in that window
}

// Defaults for the optional fields of an account.
const (
	DefaultPollInterval = 5 * time.Minute
	MinPollInterval     = 30 * time.Second
	DefaultFolder       = "INBOX"

	// AllFolders in folders stands for every selectable folder not listed
	// otherwise, except the special ones (junk, trash, sent, drafts, all
	// mail, flagged).
	AllFolders = "*"

	DefaultMaxConnections     = 3
	MaxMaxConnections         = 10
	DefaultFolderPollInterval = 2 * time.Minute
	MinFolderPollInterval     = 10 * time.Second
)

// DefaultPort is the usual port for a protocol and security mode, or 0 for an
// unknown protocol.
func DefaultPort(p Protocol, s Security) int {
	if s == "" {
		s = TLS
	}
	switch {
	case p == IMAP && s == TLS:
		return 993
	case p == IMAP:
		return 143
	case p == POP3 && s == TLS:
		return 995
	case p == POP3:
		return 110
	}
	return 0
}

// WithDefaults returns a copy of a with every unset optional field filled in:
// security tls, the port of protocol and security, folders ["INBOX"] for IMAP,
// a 5m poll interval, and for IMAP 3 connections and a 2m folder poll.
func (a Account) WithDefaults() Account {
	if a.Security == "" {
		a.Security = TLS
	}
	if a.Port == 0 {
		a.Port = DefaultPort(a.Protocol, a.Security)
	}
	if a.Protocol == IMAP && len(a.Folders) == 0 {
		a.Folders = []string{DefaultFolder}
	} else {
		a.Folders = append([]string(nil), a.Folders...)
	}
	a.QuietFrom = slices.Clone(a.QuietFrom)
	a.IgnoreFrom = slices.Clone(a.IgnoreFrom)
	if a.PollInterval == 0 {
		a.PollInterval = DefaultPollInterval
	}
	if a.Protocol == IMAP && a.MaxConnections == 0 {
		a.MaxConnections = DefaultMaxConnections
	}
	if a.Protocol == IMAP && a.FolderPollInterval == 0 {
		a.FolderPollInterval = DefaultFolderPollInterval
	}
	return a
}

// Addr is host:port for dialing, with brackets around an IPv6 host.
func (a Account) Addr() string {
	port := a.Port
	if port == 0 {
		port = DefaultPort(a.Protocol, a.Security)
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(port))
}
