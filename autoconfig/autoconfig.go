// Package autoconfig finds the incoming mail server of an e-mail address:
// the provider's Thunderbird autoconfig file, RFC 6186 SRV records, and a
// built-in table of the largest providers. It does only lookups: it never
// connects to a mail server and never sees a password.
package autoconfig

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"mailsneaker/accounts"
)

// DefaultTimeout bounds each single lookup (one URL, one SRV name).
const DefaultTimeout = 4 * time.Second

// ErrNotFound means no source knew the address's domain; the user has to
// enter the server settings by hand.
var ErrNotFound = errors.New("no server settings found")

// DefaultURLs are where a provider publishes its Thunderbird autoconfig
// file; {domain} and {email} are replaced (query-escaped).
func DefaultURLs() []string {
	return []string{
		"https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}",
		"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
	}
}

// Candidate is one way to reach the incoming mail server of an address.
type Candidate struct {
	Protocol accounts.Protocol
	Host     string
	Port     int
	Security accounts.Security
	Username string // the login name, placeholders already filled in
	Source   string // where it was found, for the user: "autoconfig.example.com", "DNS (SRV)", "built-in list"
	Hint     string // what the user must know, e.g. "Gmail needs an app password"; may be empty
}

// Resolver looks up SRV records; *net.Resolver is one.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (cname string, addrs []*net.SRV, err error)
}

// Options configure Lookup. A nil *Options is the zero value.
type Options struct {
	// HTTPClient fetches autoconfig files; it is used as it is. nil means
	// a client that follows at most MaxRedirects redirects, to https only,
	// and connects to public addresses only, checked on the address dialled
	// (ErrForbiddenAddress).
	HTTPClient *http.Client
	// URLs replace DefaultURLs() (tests point them at a local server).
	URLs []string
	// Resolver looks up SRV records; nil means net.DefaultResolver.
	Resolver Resolver
	// Timeout bounds each lookup; 0 means DefaultTimeout.
	Timeout time.Duration
	// NoBuiltin skips the built-in provider table.
	NoBuiltin bool
	// NoSRV skips the RFC 6186 lookups.
	NoSRV bool
}

func (o *Options) timeout() time.Duration {
	if o == nil || o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o *Options) client() *http.Client {
	if o != nil && o.HTTPClient != nil {
		return o.HTTPClient
	}
	return newClient(publicAddr, nil)
}

func (o *Options) urls() []string {
	if o != nil && o.URLs != nil {
		return o.URLs
	}
	return DefaultURLs()
}

func (o *Options) resolver() Resolver {
	if o != nil && o.Resolver != nil {
		return o.Resolver
	}
	return net.DefaultResolver
}

// SplitAddress splits an e-mail address into local part and lower-case
// domain, or reports that it is not one.
func SplitAddress(email string) (local, domain string, err error) {
	email = strings.TrimSpace(email)
	i := strings.LastIndexByte(email, '@')
	if i <= 0 || i == len(email)-1 {
		return "", "", fmt.Errorf("%q is not an e-mail address (it needs the form name@example.com)", email)
	}
	local, domain = email[:i], strings.ToLower(strings.TrimSuffix(email[i+1:], "."))
	if ipLiteral(domain) {
		return "", "", fmt.Errorf("%q has an IP address as its domain: looking up server settings needs a domain name (name@example.com); enter the server by hand", email)
	}
	if !validHost(domain) || !strings.Contains(domain, ".") || strings.ContainsAny(local, " \t\r\n") {
		return "", "", fmt.Errorf("%q is not an e-mail address (it needs the form name@example.com)", email)
	}
	return local, domain, nil
}

// Lookup does I/O: it finds the incoming server settings for email. A
// provider in the built-in table is answered from it without network access;
// otherwise the autoconfig URLs and the SRV records are asked at once, each
// bounded by the timeout. Candidates come IMAP before POP3, and TLS before
// STARTTLS before clear text. It returns ErrNotFound (wrapped) if no source
// knows the domain.
func Lookup(ctx context.Context, email string, o *Options) ([]Candidate, error) {
	local, domain, err := SplitAddress(email)
	if err != nil {
		return nil, err
	}
	if o == nil || !o.NoBuiltin {
		if cs := builtin(local, domain); len(cs) > 0 {
			return order(cs), nil
		}
	}

	urls := o.urls()
	results := make([][]Candidate, len(urls)+1)
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Go(func() {
			results[i] = fetchConfig(ctx, expandURL(u, email, domain), email, o)
		})
	}
	if o == nil || !o.NoSRV {
		wg.Go(func() { results[len(urls)] = lookupSRV(ctx, email, domain, o) })
	}
	wg.Wait()
	var all []Candidate
	for _, r := range results {
		all = append(all, r...)
	}
	if len(all) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w for %s: enter them by hand (your provider's help pages list them)", ErrNotFound, domain)
	}
	return order(all), nil
}

func expandURL(tmpl, email, domain string) string {
	return strings.NewReplacer("{domain}", domain, "{email}", url.QueryEscape(email)).Replace(tmpl)
}

// fetchConfig gets and parses one autoconfig file; any failure means "this
// source knows nothing".
func fetchConfig(ctx context.Context, u, email string, o *Options) []Candidate {
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil
	}
	resp, err := o.client().Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	data, err := readLimited(resp.Body, MaxConfigSize)
	if err != nil {
		return nil
	}
	cs, err := ParseClientConfig(data, email)
	if err != nil {
		return nil
	}
	src := resp.Request.URL.Hostname() // after redirects: where the file came from
	for i := range cs {
		cs[i].Source = src
	}
	return cs
}

// srvServices are the RFC 6186 services in order of preference.
var srvServices = []struct {
	service string
	proto   accounts.Protocol
	sec     accounts.Security
}{
	{"imaps", accounts.IMAP, accounts.TLS},
	{"imap", accounts.IMAP, accounts.StartTLS},
	{"pop3s", accounts.POP3, accounts.TLS},
	{"pop3", accounts.POP3, accounts.StartTLS},
}

// lookupSRV asks for the RFC 6186 records. Per RFC 6186 §4 the login name is
// the whole address, and a target of "." means "not offered here".
func lookupSRV(ctx context.Context, email, domain string, o *Options) []Candidate {
	results := make([][]Candidate, len(srvServices))
	var wg sync.WaitGroup
	for i, s := range srvServices {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, o.timeout())
			defer cancel()
			_, addrs, err := o.resolver().LookupSRV(ctx, s.service, "tcp", domain)
			if err != nil {
				return
			}
			slices.SortStableFunc(addrs, func(a, b *net.SRV) int {
				return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(b.Weight, a.Weight))
			})
			for _, r := range addrs {
				if r == nil {
					continue
				}
				host := strings.TrimSuffix(r.Target, ".")
				if host == "" || r.Port == 0 || !validHost(host) {
					continue
				}
				results[i] = append(results[i], Candidate{Protocol: s.proto, Host: strings.ToLower(host), Port: int(r.Port),
					Security: s.sec, Username: email, Source: "DNS (SRV)"})
			}
		})
	}
	wg.Wait()
	return slices.Concat(results...)
}

// order sorts IMAP before POP3 and TLS before STARTTLS before none, keeping
// the sources' order otherwise, and drops duplicates.
func order(cs []Candidate) []Candidate {
	rank := func(c Candidate) int {
		r := 0
		if c.Protocol == accounts.POP3 {
			r = 10
		}
		switch c.Security {
		case accounts.StartTLS:
			r++
		case accounts.None:
			r += 2
		}
		return r
	}
	slices.SortStableFunc(cs, func(a, b Candidate) int { return rank(a) - rank(b) })
	type key struct {
		p    accounts.Protocol
		host string
		port int
		s    accounts.Security
	}
	seen := map[key]bool{}
	out := cs[:0]
	for _, c := range cs {
		k := key{c.Protocol, c.Host, c.Port, c.Security}
		if !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

// ipLiteral reports whether an address's domain is an IP address: an RFC
// 5321 literal ("[127.0.0.1]", "[IPv6:::1]"), a bare IP, or a name whose top
// label is all digits, which some resolvers read as an IPv4 address
// ("127.1"). The autoconfig URLs would point at that address directly.
func ipLiteral(domain string) bool {
	if strings.HasPrefix(domain, "[") || strings.HasSuffix(domain, "]") {
		return true
	}
	if _, err := netip.ParseAddr(domain); err == nil {
		return true
	}
	top := domain[strings.LastIndexByte(domain, '.')+1:]
	return top != "" && strings.Trim(top, "0123456789") == ""
}

// validHost reports whether h looks like a host name or an IP address.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			if !ok {
				return false
			}
		}
	}
	return true
}
