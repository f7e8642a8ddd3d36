package autoconfig

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.215.14:443", true},
		{"[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443", true},
		{"127.0.0.1:443", false},
		{"127.8.9.10:443", false},
		{"[::1]:443", false},
		{"[::ffff:127.0.0.1]:443", false}, // IPv4-mapped loopback
		{"[::ffff:10.1.2.3]:443", false},
		{"10.0.0.1:443", false},
		{"172.16.5.4:443", false},
		{"192.168.1.1:443", false},
		{"169.254.169.254:80", false}, // cloud metadata
		{"[fe80::1]:443", false},
		{"[fd00::1]:443", false},
		{"100.64.0.1:443", false},
		{"0.0.0.0:443", false},
		{"0.1.2.3:443", false},
		{"[::]:443", false},
		{"224.0.0.1:443", false},
		{"255.255.255.255:443", false},
	} {
		ap := netip.MustParseAddrPort(tc.addr)
		if got := publicAddr(ap); got != tc.ok {
			t.Errorf("publicAddr(%s) = %v, want %v", tc.addr, got, tc.ok)
		}
		err := dialGuard(publicAddr)("tcp", tc.addr, nil)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrForbiddenAddress)) {
			t.Errorf("dial guard on %s: %v", tc.addr, err)
		}
	}
	if err := dialGuard(publicAddr)("tcp", "example.org:443", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("dial guard on a name: %v; it must only ever see resolved addresses", err)
	}
}

// The default client never reaches a server on this machine, by IP or by
// a name that resolves to it (what DNS rebinding would make
// autoconfig.<domain> do).
func TestDefaultClientRefusesLocalServer(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "https://"), ":")
	c := (*Options)(nil).client()
	for _, u := range []string{srv.URL, "https://localhost:" + port + "/"} {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s: the default client reached a local server", u)
			continue
		}
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("GET %s: %v, want ErrForbiddenAddress", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the local server got %d requests", n)
	}
}

// redirector is a TLS server on 127.0.0.1: /hop/N redirects to /hop/N-1,
// /hop/0 serves the example config, /to?u=URL redirects to URL.
func redirector(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var served atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/to":
			http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
		case r.URL.Path == "/hop/0":
			served.Add(1)
			w.Header().Set("Content-Type", "text/xml")
			w.Write([]byte(exampleConfig))
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &served
}

// onlyServer lets the guarded client reach srv (and the plain servers
// named) and nothing else: the hook the tests need, and no more.
func onlyServer(t *testing.T, srv *httptest.Server, plain ...*httptest.Server) *http.Client {
	t.Helper()
	own := map[netip.AddrPort]bool{}
	for _, s := range append(plain, srv) {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		own[netip.MustParseAddrPort(u.Host)] = true
	}
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	return newClient(func(ap netip.AddrPort) bool { return own[ap] }, &tls.Config{RootCAs: roots})
}

func TestLookupRedirects(t *testing.T) {
	srv, served := redirector(t)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a plain http redirect was followed to %s", r.URL)
	}))
	defer plain.Close()
	other, otherServed := redirector(t) // a second local server the hook does not allow

	for _, tc := range []struct {
		name, path string
		found      bool
	}{
		{"3 redirects", "/hop/3", true},
		{"4 redirects", "/hop/4", false},
		{"http redirect", "/to?u=" + url.QueryEscape(plain.URL+"/x"), false},
		{"redirect to a local address", "/to?u=" + url.QueryEscape(other.URL+"/hop/0"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served.Store(0)
			// The plain server is allowed: only the scheme may stop that redirect.
			o := &Options{URLs: []string{srv.URL + tc.path}, Resolver: fakeResolver{}, NoBuiltin: true, HTTPClient: onlyServer(t, srv, plain)}
			got, err := Lookup(context.Background(), "ann@example.org", o)
			if tc.found {
				if err != nil || len(got) == 0 || got[0].Host != "imap.example.org" || served.Load() != 1 {
					t.Fatalf("Lookup = %v, %v (config served %d times)", got, err, served.Load())
				}
				return
			}
			if !errors.Is(err, ErrNotFound) || served.Load() != 0 {
				t.Fatalf("Lookup = %v, %v (config served %d times); want ErrNotFound", got, err, served.Load())
			}
		})
	}
	if n := otherServed.Load(); n != 0 {
		t.Errorf("the server the hook does not allow served %d configs", n)
	}

	// The reasons, as the client gives them.
	c := onlyServer(t, srv, plain)
	for path, want := range map[string]string{
		"/hop/4": "more than 3 redirects",
		"/to?u=" + url.QueryEscape(plain.URL+"/x"):          "only https is followed",
		"/to?u=" + url.QueryEscape(other.URL+"/hop/0"):      ErrForbiddenAddress.Error(),
		"/to?u=" + url.QueryEscape("https://localhost:1/x"): ErrForbiddenAddress.Error(),
	} {
		resp, err := c.Get(srv.URL + path)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s succeeded", path)
		} else if !strings.Contains(err.Error(), want) {
			t.Errorf("GET %s: %v, want %q", path, err, want)
		}
	}
}

func TestIPLiteralDomainRefused(t *testing.T) {
	o := &Options{HTTPClient: &http.Client{Transport: failTransport{t}}, Resolver: fakeResolver{}}
	for _, email := range []string{
		"user@[127.0.0.1]", "user@127.0.0.1", "user@[IPv6:::1]", "user@[::1]", "user@::1",
		"user@10.0.0.1", "user@169.254.169.254", "user@127.1", "user@0x7f.1", "user@2130706433",
		"user@[IPv6:fe80::1]", "user@[192.168.0.1].",
	} {
		_, err := Lookup(context.Background(), email, o)
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%q) = %v, want a refusal", email, err)
			continue
		}
		if !strings.Contains(err.Error(), "IP address") && !strings.Contains(err.Error(), "not an e-mail address") {
			t.Errorf("Lookup(%q): %v: the error should say why", email, err)
		}
	}
	for _, email := range []string{"user@[127.0.0.1]", "user@127.0.0.1", "user@[IPv6:::1]"} {
		if _, _, err := SplitAddress(email); err == nil || !strings.Contains(err.Error(), "IP address as its domain") {
			t.Errorf("SplitAddress(%q) = %v, want the IP-literal error", email, err)
		}
	}
	for _, email := range []string{"ann@example.org", "x@mail.123.example", "a@1and1.com", "a@xn--80ak6aa92e.com"} {
		if _, _, err := SplitAddress(email); err != nil {
			t.Errorf("SplitAddress(%q) = %v", email, err)
		}
	}
}
