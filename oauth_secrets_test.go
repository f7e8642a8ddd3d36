package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mailsneaker/internal/testenv"
)

// oauthAccountTOML is a config.toml account on 127.0.0.1 that signs in
// (auth = "oauth2") at the fake provider as.
func oauthAccountTOML(name, protocol string, port int, user, caFile string, as *testenv.OAuthServer) string {
	return fmt.Sprintf(`
[[account]]
name = %q
protocol = %q
host = "127.0.0.1"
port = %d
username = %q
ca_file = %q
auth = "oauth2"
oauth_provider = "custom"
oauth_client_id = %q
oauth_auth_url = %q
oauth_token_url = %q
oauth_scopes = ["mail", "offline_access"]
`, name, protocol, port, user, caFile, as.ClientID, as.AuthURL(), as.TokenURL())
}

// TestOAuthCheckNeverLeaksTokens: `mailsneaker check` logs in to a real
// Dovecot (oauth2 passdb) over IMAPS and POP3S with OAuth2: the refresh
// tokens wait in a real gnome-keyring under "oauth:<account>", the binary
// gets access tokens from the fake provider and counts the mail. No token
// appears in any output (debug logs included) or in any file under the
// config and state dirs. A revoked sign-in then says "sign in again".
func TestOAuthCheckNeverLeaksTokens(t *testing.T) {
	t.Parallel()
	as := testenv.StartOAuthServer(t)
	d := testenv.StartDovecotOAuth(t, as.Key)
	bus := testenv.PrivateBus(t, false)
	testenv.GnomeKeyring(t, bus)
	testenv.Need(t, "secret-tool", "secret-tool")
	c := newCLIEnv(t)
	home := filepath.Dir(filepath.Dir(c.state))
	c.env = append(c.env, "DBUS_SESSION_BUS_ADDRESS="+bus)
	user, _ := d.AddUser(t)
	d.Deliver(t, user, testenv.Message("Ann <ann@example.com>", "hello", "x"))
	d.Deliver(t, user, testenv.Message("Bob <bob@example.com>", "again", "x"))

	// What the setup page's sign-in stores (oauth.SaveGrant), stored from
	// outside: the token goes on stdin, never on a command line.
	var body strings.Builder
	for _, a := range []struct {
		name, proto string
		port        int
	}{{"mail", "imap", d.IMAPS}, {"pop", "pop3", d.POP3S}} {
		store := exec.Command("secret-tool", "store", "--label", "test grant", "service", "mailsneaker", "username", "oauth:"+a.name)
		store.Env = c.env
		store.Stdin = strings.NewReader(as.RefreshToken(user))
		if out, err := store.CombinedOutput(); err != nil {
			t.Fatalf("secret-tool store: %v\n%s", err, out)
		}
		body.WriteString(oauthAccountTOML(a.name, a.proto, a.port, user, d.CAFile, as))
	}
	c.writeConfig(body.String())

	var outputs []string
	run := func(args ...string) (string, string, int) {
		t.Helper()
		out, errOut, code := c.run("", args...)
		outputs = append(outputs, fmt.Sprintf("mailsneaker %s:\n%s\n%s", strings.Join(args, " "), out, errOut))
		return out, errOut, code
	}
	out, errOut, code := run("-v", "check", "--json")
	// The POP3 account's first check takes the mail there as seen
	// (count_existing is off): no error is its proof of login.
	if code != 0 || !strings.Contains(out, `"new": 2`) || strings.Count(out, `"error": ""`) != 2 {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "AUTHENTICATE") || !strings.Contains(errOut, "pop3 AUTH") {
		t.Fatalf("the debug log does not show the OAuth2 logins:\n%s", errOut)
	}

	as.RevokeAll()
	out, errOut, code = run("-v", "check", "--json")
	if code != 1 || strings.Count(out, "sign in again") != 2 {
		t.Fatalf("check after revocation: exit %d, want 1 and 'sign in again' twice\n%s%s", code, out, errOut)
	}

	// account remove deletes the sign-in from the keychain too.
	if out, errOut, code := run("account", "remove", "pop"); code != 0 || errOut != "" {
		t.Fatalf("account remove: exit %d\n%s%s", code, out, errOut)
	}
	lookup := exec.Command("secret-tool", "lookup", "service", "mailsneaker", "username", "oauth:pop")
	lookup.Env = c.env
	if out, err := lookup.Output(); err == nil || len(out) > 0 {
		t.Errorf("the grant of a removed account is still in the keychain (secret-tool lookup: %v, %d bytes)", err, len(out))
	}

	tokens := as.Issued()
	if len(tokens) < 4 {
		t.Fatalf("only %d tokens issued", len(tokens))
	}
	leaks := func(where, text string) {
		t.Helper()
		for _, tok := range tokens {
			if strings.Contains(text, tok) {
				t.Errorf("%s holds a token:\n%s", where, text)
			}
		}
	}
	for _, o := range outputs {
		leaks("output", o)
	}
	filepath.WalkDir(home, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil {
			leaks(p, string(b))
		}
		return nil
	})
}
