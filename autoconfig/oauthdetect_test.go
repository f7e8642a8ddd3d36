package autoconfig

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"mailsneaker/accounts"
)

// mxResolver answers MX lookups from a table (and SRV with nothing);
// hang makes every MX lookup wait for its context.
type mxResolver struct {
	fakeResolver
	mx    map[string][]*net.MX
	hang  bool
	asked []string
}

func (r *mxResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	r.asked = append(r.asked, name)
	if r.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if m, ok := r.mx[name]; ok {
		return m, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func TestDetectOAuth(t *testing.T) {
	res := &mxResolver{mx: map[string][]*net.MX{
		"work.example":     {{Host: "ASPMX.L.GOOGLE.COM.", Pref: 1}, {Host: "alt1.aspmx.l.google.com.", Pref: 5}},
		"old.example":      {{Host: "aspmx2.googlemail.com.", Pref: 10}},
		"corp.example":     {{Host: "corp-example.mail.protection.outlook.com.", Pref: 0}},
		"filtered.example": {{Host: "aspmx.l.google.com.", Pref: 20}, {Host: "mx.filter.example.", Pref: 10}},
		"own.example":      {{Host: "mail.own.example.", Pref: 10}},
		"fake.example":     {{Host: "google.com.evil.example.", Pref: 10}, {Host: "mail.protection.outlook.com.evil.example.", Pref: 10}},
		"nil.example":      {nil},
	}}
	for _, tc := range []struct {
		email, provider, via string
	}{
		{"ann@gmail.com", OAuthGoogle, "address"},
		{"Ann@GoogleMail.com", OAuthGoogle, "address"},
		{"bob@outlook.com", OAuthMicrosoft, "address"},
		{"bob@hotmail.com", OAuthMicrosoft, "address"},
		{"bob@hotmail.co.uk", OAuthMicrosoft, "address"},
		{"bob@hotmail.de", OAuthMicrosoft, "address"},
		{"bob@live.com", OAuthMicrosoft, "address"},
		{"bob@outlook.de", OAuthMicrosoft, "address"},
		{"eve@hotmail.example.org", "", ""}, // a subdomain, not Microsoft's
		{"eve@gmail.com.example", "", ""},
		{"cy@work.example", OAuthGoogle, "MX aspmx.l.google.com"},
		{"cy@old.example", OAuthGoogle, "MX aspmx2.googlemail.com"},
		{"di@corp.example", OAuthMicrosoft, "MX corp-example.mail.protection.outlook.com"},
		{"di@filtered.example", "", ""}, // the preferred MX is not Google's
		{"di@own.example", "", ""},
		{"di@fake.example", "", ""},
		{"di@nil.example", "", ""},
		{"di@nxdomain.example", "", ""},
		{"not an address", "", ""},
	} {
		got := DetectOAuth(context.Background(), tc.email, &Options{Resolver: res})
		if got.Provider != tc.provider || got.Via != tc.via {
			t.Errorf("DetectOAuth(%q) = %+v, want %q via %q", tc.email, got, tc.provider, tc.via)
		}
	}
}

// The consumer domains need no lookup; a fake Resolver without LookupMX
// means no MX lookup at all, never the real DNS.
func TestDetectOAuthLookups(t *testing.T) {
	res := &mxResolver{mx: map[string][]*net.MX{}}
	DetectOAuth(context.Background(), "ann@gmail.com", &Options{Resolver: res})
	if len(res.asked) != 0 {
		t.Errorf("gmail.com was looked up: %q", res.asked)
	}
	DetectOAuth(context.Background(), "ann@work.example", &Options{Resolver: res})
	if len(res.asked) != 1 || res.asked[0] != "work.example" {
		t.Errorf("MX lookups %q, want [work.example]", res.asked)
	}
	if r := (&Options{Resolver: fakeResolver{}}).mxResolver(); r != nil {
		t.Errorf("a SRV-only fake resolver gave an MX resolver %T", r)
	}
	if r := (*Options)(nil).mxResolver(); r != net.DefaultResolver {
		t.Errorf("nil options: MX resolver %T, want net.DefaultResolver", r)
	}
}

// A DNS server that never answers costs the timeout, not more.
func TestDetectOAuthDeadline(t *testing.T) {
	res := &mxResolver{hang: true}
	done := make(chan OAuthDetection, 1)
	go func() {
		done <- DetectOAuth(context.Background(), "ann@slow.example", &Options{Resolver: res, Timeout: 50 * time.Millisecond})
	}()
	select {
	case got := <-done:
		if got.Provider != "" {
			t.Errorf("a hanging lookup detected %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("DetectOAuth did not return after its timeout")
	}
	// A cancelled caller ends it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := DetectOAuth(ctx, "ann@slow.example", &Options{Resolver: res}); got.Provider != "" || !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("cancelled: %+v", got)
	}
}

// A domain hosted at Google or Microsoft 365 gets the provider's servers,
// with the whole address as the login.
func TestOAuthServers(t *testing.T) {
	for _, tc := range []struct {
		provider, host string
	}{{OAuthGoogle, "imap.gmail.com"}, {OAuthMicrosoft, "outlook.office365.com"}} {
		cs := OAuthServers(tc.provider, "Cy@Work.example")
		if len(cs) != 2 || cs[0].Protocol != accounts.IMAP || cs[0].Host != tc.host || cs[0].Port != 993 || cs[0].Security != accounts.TLS ||
			cs[0].Username != "Cy@work.example" || cs[1].Protocol != accounts.POP3 || cs[1].Port != 995 {
			t.Errorf("%s: %+v", tc.provider, cs)
		}
	}
	if cs := OAuthServers("custom", "cy@work.example"); cs != nil {
		t.Errorf("custom: %+v", cs)
	}
	if cs := OAuthServers(OAuthGoogle, "not an address"); cs != nil {
		t.Errorf("bad address: %+v", cs)
	}
}
