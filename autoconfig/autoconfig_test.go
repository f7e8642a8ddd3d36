package autoconfig

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// exampleConfig is shaped like the files real providers publish: several
// servers, OAuth2 beside passwords, an SMTP server, documentation.
const exampleConfig = `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.org">
    <domain>example.org</domain>
    <domain>example.net</domain>
    <displayName>Example Mail</displayName>
    <displayShortName>Example</displayShortName>
    <incomingServer type="pop3">
      <hostname>pop.%EMAILDOMAIN%</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.org</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>IMAP.example.org.</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>oauth-only.example.org</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
    </incomingServer>
    <incomingServer type="exchange">
      <hostname>outlook.example.org</hostname>
      <port>443</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.org</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <documentation url="https://help.example.org/mail">
      <descr lang="en">Generic settings page</descr>
    </documentation>
  </emailProvider>
</clientConfig>`

func TestParseClientConfig(t *testing.T) {
	got, err := ParseClientConfig([]byte(exampleConfig), "Ann.Lee@Example.org")
	if err != nil {
		t.Fatal(err)
	}
	want := []Candidate{
		{Protocol: accounts.POP3, Host: "pop.example.org", Port: 995, Security: accounts.TLS, Username: "Ann.Lee@Example.org"},
		{Protocol: accounts.IMAP, Host: "imap.example.org", Port: 143, Security: accounts.StartTLS, Username: "Ann.Lee"},
		{Protocol: accounts.IMAP, Host: "imap.example.org", Port: 993, Security: accounts.TLS, Username: "Ann.Lee"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseClientConfigRejects(t *testing.T) {
	server := func(body string) string {
		return `<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap">` + body + `</incomingServer></emailProvider></clientConfig>`
	}
	for _, tc := range []struct{ name, xml, want string }{
		{"not xml", "hello", "autoconfig file"},
		{"wrong root", "<html><body>404</body></html>", "autoconfig file"},
		{"empty", `<clientConfig version="1.1"/>`, "no usable"},
		{"bad port", server(`<hostname>h.example</hostname><port>99999</port><socketType>SSL</socketType><username>u</username>`), "no usable"},
		{"bad socket", server(`<hostname>h.example</hostname><port>993</port><socketType>TLS1.3</socketType><username>u</username>`), "no usable"},
		{"bad host", server(`<hostname>h example/x</hostname><port>993</port><socketType>SSL</socketType><username>u</username>`), "no usable"},
		{"no user", server(`<hostname>h.example</hostname><port>993</port><socketType>SSL</socketType>`), "no usable"},
		{"too big", "<clientConfig>" + strings.Repeat(" ", MaxConfigSize) + "</clientConfig>", "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := ParseClientConfig([]byte(tc.xml), "a@example.org")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, %v; want error with %q", cs, err, tc.want)
			}
		})
	}
}

func FuzzParseClientConfig(f *testing.F) {
	f.Add([]byte(exampleConfig), "ann@example.org")
	f.Add([]byte(`<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="pop3"><hostname>%EMAILDOMAIN%</hostname><port>110</port><socketType>plain</socketType><username>%EMAILLOCALPART%</username></incomingServer></emailProvider></clientConfig>`), "b@x.example")
	f.Add([]byte(`<clientConfig><emailProvider><incomingServer type="imap"><hostname>&#0;</hostname></incomingServer></emailProvider></clientConfig>`), "c@d.e")
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><clientConfig>&a;</clientConfig>`), "x@y.z")
	f.Fuzz(func(t *testing.T, data []byte, email string) {
		cs, err := ParseClientConfig(data, email)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Port < 1 || c.Port > 65535 || !validHost(c.Host) || c.Username == "" || strings.ContainsAny(c.Username, "\r\n") {
				t.Fatalf("unusable candidate %+v", c)
			}
			if c.Protocol != accounts.IMAP && c.Protocol != accounts.POP3 {
				t.Fatalf("protocol %q", c.Protocol)
			}
		}
	})
}

// fakeResolver answers SRV lookups from a table; everything else is NXDOMAIN.
type fakeResolver map[string][]*net.SRV

func (r fakeResolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if addrs, ok := r["_"+service+"._"+proto+"."+name]; ok {
		return "", addrs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func TestLookupAutoconfigAndSRV(t *testing.T) {
	var gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mail/config-v1.1.xml" {
			http.NotFound(w, r)
			return
		}
		gotQuery = r.URL.Query().Get("emailaddress")
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(exampleConfig))
	}))
	defer srv.Close()
	res := fakeResolver{
		"_imaps._tcp.example.org": {{Target: "mail2.example.org.", Port: 993, Priority: 20}, {Target: "mail1.example.org.", Port: 993, Priority: 10}},
		"_pop3._tcp.example.org":  {{Target: ".", Port: 0}}, // "not offered"
	}
	// The test's own server's client: the default one never connects to 127.0.0.1.
	o := &Options{URLs: []string{srv.URL + "/mail/config-v1.1.xml?emailaddress={email}", srv.URL + "/missing/{domain}"}, Resolver: res, HTTPClient: srv.Client()}
	got, err := Lookup(context.Background(), "ann@example.org", o)
	if err != nil {
		t.Fatal(err)
	}
	if gotQuery != "ann@example.org" {
		t.Errorf("emailaddress query = %q", gotQuery)
	}
	type hp struct {
		p    accounts.Protocol
		host string
		port int
		s    accounts.Security
		src  string
	}
	var short []hp
	for _, c := range got {
		short = append(short, hp{c.Protocol, c.Host, c.Port, c.Security, c.Source})
	}
	want := []hp{
		{accounts.IMAP, "imap.example.org", 993, accounts.TLS, "127.0.0.1"},
		{accounts.IMAP, "mail1.example.org", 993, accounts.TLS, "DNS (SRV)"},
		{accounts.IMAP, "mail2.example.org", 993, accounts.TLS, "DNS (SRV)"},
		{accounts.IMAP, "imap.example.org", 143, accounts.StartTLS, "127.0.0.1"},
		{accounts.POP3, "pop.example.org", 995, accounts.TLS, "127.0.0.1"},
	}
	if !reflect.DeepEqual(short, want) {
		t.Errorf("got  %v\nwant %v", short, want)
	}
	if got[1].Username != "ann@example.org" {
		t.Errorf("SRV username = %q, want the whole address (RFC 6186 §4)", got[1].Username)
	}
}

func TestLookupBuiltin(t *testing.T) {
	// No network: a built-in provider never reaches the HTTP client.
	o := &Options{HTTPClient: &http.Client{Transport: failTransport{t}}, Resolver: fakeResolver{}}
	got, err := Lookup(context.Background(), "someone@GMail.com", o)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Host != "imap.gmail.com" || got[0].Port != 993 || got[0].Security != accounts.TLS ||
		got[1].Protocol != accounts.POP3 || !strings.Contains(got[0].Hint, "app password") || got[0].Username != "someone@gmail.com" {
		t.Errorf("gmail: %+v", got)
	}
	got, _ = Lookup(context.Background(), "jo@icloud.com", o)
	if len(got) != 1 || got[0].Username != "jo" {
		t.Errorf("icloud: %+v", got)
	}
	got, _ = Lookup(context.Background(), "jo@proton.me", o)
	if len(got) != 1 || got[0].Host != "127.0.0.1" || got[0].Port != 1143 || got[0].Security != accounts.StartTLS || !strings.Contains(got[0].Hint, "Bridge") {
		t.Errorf("proton: %+v", got)
	}
}

type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected HTTP request to %s", r.URL)
	return nil, errors.New("no network in this test")
}

func TestLookupNotFoundAndTimeout(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a server that never answers
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	o := &Options{URLs: []string{srv.URL + "/x"}, Resolver: fakeResolver{}, Timeout: 100 * time.Millisecond, HTTPClient: srv.Client()}
	start := time.Now()
	_, err := Lookup(context.Background(), "a@unknown.example", o)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("lookup took %s despite a 100ms timeout", d)
	}
	for _, bad := range []string{"", "nobody", "@example.org", "a@", "a@localhost", "a b@example.org", "a@exa mple.org"} {
		if _, err := Lookup(context.Background(), bad, o); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%q) = %v, want an address error", bad, err)
		}
	}
}

func TestLookupBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Replace(exampleConfig, "<displayName>", "<displayName>"+strings.Repeat("x", MaxConfigSize), 1)))
	}))
	defer srv.Close()
	_, err := Lookup(context.Background(), "a@example.org", &Options{URLs: []string{srv.URL}, Resolver: fakeResolver{}, HTTPClient: srv.Client()})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("oversized file: err = %v, want ErrNotFound", err)
	}
}
