package autoconfig

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
)

// MaxRedirects is how many redirects one autoconfig fetch follows.
const MaxRedirects = 3

// ErrForbiddenAddress is the error of a connection to an address the
// lookup must not reach: loopback, private, link-local and the like. The
// autoconfig URLs are built from the user's e-mail domain, so its DNS
// decides where they point; it must not point us at our own machine or
// network.
var ErrForbiddenAddress = errors.New("refusing to connect to a local or private address")

// cgnat is the shared address space of RFC 6598, internal to providers.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether a lookup may connect to ap: a global unicast
// address, not loopback, private (RFC 1918, RFC 4193), link-local, CGNAT,
// unspecified or multicast. IPv4-mapped IPv6 addresses are judged as IPv4.
func publicAddr(ap netip.AddrPort) bool {
	a := ap.Addr().Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() &&
		!a.IsLinkLocalUnicast() && !cgnat.Contains(a) && a != netip.IPv4Unspecified() &&
		!(a.Is4() && a.As4()[0] == 0) // 0.0.0.0/8: "this network"
}

// dialGuard returns a net.Dialer Control func that refuses every address
// allow refuses. It sees the address actually dialled, after DNS, so a name
// that resolves (or re-resolves, DNS rebinding) to 127.0.0.1 is caught too.
func dialGuard(allow func(netip.AddrPort) bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s is not an IP address", ErrForbiddenAddress, address)
		}
		if !allow(ap) {
			return fmt.Errorf("%w (%s)", ErrForbiddenAddress, ap.Addr().Unmap())
		}
		return nil
	}
}

// checkRedirect follows at most MaxRedirects redirects, and only to https.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("more than %d redirects", MaxRedirects)
	}
	if req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to %s refused: only https is followed", req.URL.Redacted())
	}
	return nil
}

// newClient returns the HTTP client of a lookup: it connects only where
// allow lets it and follows redirects as checkRedirect says. tlsConf nil
// means the system roots. No proxy: the guard must see the server's
// address, not a proxy's.
func newClient(allow func(netip.AddrPort) bool, tlsConf *tls.Config) *http.Client {
	d := &net.Dialer{Timeout: DefaultTimeout, Control: dialGuard(allow)}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            d.DialContext,
			TLSClientConfig:        tlsConf,
			TLSHandshakeTimeout:    DefaultTimeout,
			ResponseHeaderTimeout:  DefaultTimeout,
			MaxResponseHeaderBytes: 64 << 10,
			ForceAttemptHTTP2:      true,
			DisableKeepAlives:      true, // a lookup makes a handful of requests, once
		},
		CheckRedirect: checkRedirect,
	}
}
