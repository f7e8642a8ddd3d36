package autoconfig

import (
	"context"
	"net"
	"slices"
	"strings"
)

// Sign-in providers DetectOAuth knows; the names are the oauth_provider
// values of config.toml.
const (
	OAuthGoogle    = "google"
	OAuthMicrosoft = "microsoft"
)

// MXResolver looks up MX records; *net.Resolver is one. A Resolver in
// Options that also has this method answers DetectOAuth's MX lookups.
type MXResolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
}

// OAuthDetection is what DetectOAuth found: the provider whose "Sign in
// with …" the add-account page offers, and how it knows.
type OAuthDetection struct {
	Provider string // OAuthGoogle, OAuthMicrosoft, or "" for none
	Via      string // "address" or "MX mx.example.com", for the log and the page
}

// oauthDomains are the consumer domains whose mail only the provider serves.
var oauthDomains = map[string]string{
	"gmail.com": OAuthGoogle, "googlemail.com": OAuthGoogle,
	"outlook.com": OAuthMicrosoft, "live.com": OAuthMicrosoft, "msn.com": OAuthMicrosoft,
}

// oauthByDomain knows the provider from the domain alone: gmail.com,
// googlemail.com, outlook.com, live.com, msn.com, and hotmail.<any> and
// outlook.<any> (hotmail.co.uk, outlook.de).
func oauthByDomain(domain string) string {
	if p := oauthDomains[domain]; p != "" {
		return p
	}
	first, rest, _ := strings.Cut(domain, ".")
	if first == "hotmail" || first == "outlook" || first == "live" {
		// hotmail.de, hotmail.co.uk, live.com.au; not hotmail.example.org.
		l := strings.Split(rest, ".")
		if len(l) == 1 || len(l) == 2 && (l[0] == "co" || l[0] == "com") {
			return OAuthMicrosoft
		}
	}
	return ""
}

// oauthByMX knows the provider from one MX host: Google Workspace
// (aspmx.l.google.com, alt1.aspmx.l.google.com, smtp.google.com, the old
// *.googlemail.com) or Microsoft 365 (*.mail.protection.outlook.com).
func oauthByMX(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	switch {
	case host == "google.com" || strings.HasSuffix(host, ".google.com"),
		host == "googlemail.com" || strings.HasSuffix(host, ".googlemail.com"):
		return OAuthGoogle
	case strings.HasSuffix(host, ".mail.protection.outlook.com"):
		return OAuthMicrosoft
	}
	return ""
}

// mxResolver is what answers MX lookups: Options.Resolver if it can, none
// if a Resolver without LookupMX was given (a test's fake must never fall
// through to the real DNS), else net.DefaultResolver.
func (o *Options) mxResolver() MXResolver {
	if o == nil || o.Resolver == nil {
		return net.DefaultResolver
	}
	r, _ := o.Resolver.(MXResolver)
	return r
}

// DetectOAuth says whether email belongs to a provider that takes "Sign in
// with Google/Microsoft" (OAuth2) for IMAP and POP3. It knows the consumer
// domains without I/O; for any other domain it does I/O: one MX lookup,
// bounded by the Options' timeout, that finds domains hosted at Google
// Workspace or Microsoft 365. Any failure (a bad address, no MX, a timeout)
// is "none": the page then offers the password field only.
func DetectOAuth(ctx context.Context, email string, o *Options) OAuthDetection {
	_, domain, err := SplitAddress(email)
	if err != nil {
		return OAuthDetection{}
	}
	if p := oauthByDomain(domain); p != "" {
		return OAuthDetection{Provider: p, Via: "address"}
	}
	r := o.mxResolver()
	if r == nil {
		return OAuthDetection{}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	mxs, err := r.LookupMX(ctx, domain)
	if err != nil {
		return OAuthDetection{}
	}
	mxs = slices.DeleteFunc(slices.Clone(mxs), func(m *net.MX) bool { return m == nil })
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	// The preferred exchanger decides: a domain that relays through a
	// filter first (mx.filter.example → Google) is not offered sign-in
	// on a guess.
	if len(mxs) == 0 {
		return OAuthDetection{}
	}
	host := strings.ToLower(strings.TrimSuffix(mxs[0].Host, "."))
	if p := oauthByMX(host); p != "" && validHost(host) {
		return OAuthDetection{Provider: p, Via: "MX " + host}
	}
	return OAuthDetection{}
}

// oauthHome is a consumer domain of each provider, whose entry in the
// built-in table has the servers of every domain the provider hosts.
var oauthHome = map[string]string{OAuthGoogle: "gmail.com", OAuthMicrosoft: "outlook.com"}

// OAuthServers are the incoming servers of a domain hosted at provider
// (found by DetectOAuth from its MX, so the built-in table does not list
// it): Google Workspace's are Gmail's, Microsoft 365's Outlook.com's, the
// login being the whole address. nil for another provider or a bad
// address. It does no I/O.
func OAuthServers(provider, email string) []Candidate {
	home := oauthHome[provider]
	local, domain, err := SplitAddress(email)
	if home == "" || err != nil {
		return nil
	}
	cs := builtin(local, home)
	for i := range cs {
		cs[i].Username = local + "@" + domain
		cs[i].Source = "built-in list (MX)"
		cs[i].Hint = ""
	}
	return order(cs)
}
