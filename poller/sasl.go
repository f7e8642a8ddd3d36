package poller

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/emersion/go-sasl"

	"mailsneaker/accounts"
)

// SASL mechanism names as servers advertise them.
const (
	saslXOAuth2     = "XOAUTH2"
	saslOAuthBearer = sasl.OAuthBearer // RFC 7628
)

// saslRefusal is a server's SASL error challenge for a bearer token: the
// JSON of RFC 7628 section 3.2.2, which XOAUTH2 (Google's and Microsoft's)
// shares. It holds no token.
type saslRefusal struct {
	Mechanism string
	Status    string // "401", "invalid_token", ...
	Scope     string // the scope the server wanted, if it said
}

func (e *saslRefusal) Error() string {
	s := e.Mechanism + " refused"
	if e.Status != "" {
		s += ": status " + e.Status
	}
	if e.Scope != "" {
		s += ", scope needed: " + e.Scope
	}
	return s
}

// parseSASLRefusal reads an error challenge; text that is not the JSON
// still makes a refusal, without status.
func parseSASLRefusal(mech string, challenge []byte) *saslRefusal {
	var j struct {
		Status string `json:"status"`
		Scope  string `json:"scope"`
	}
	json.Unmarshal(challenge, &j)
	return &saslRefusal{Mechanism: mech, Status: saslClean(j.Status), Scope: saslClean(j.Scope)}
}

// saslClean clips server text and drops control characters.
func saslClean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100]) + "…"
	}
	return s
}

// bearerClient is a sasl.Client for XOAUTH2 or OAUTHBEARER. go-sasl
// dropped XOAUTH2; its OAUTHBEARER client gives the initial response here,
// so that both answer an error challenge the same way: Next returns a
// *saslRefusal, and the caller ends the exchange (IMAP: closes the
// connection, since go-imap does not send the reply the mechanism needs).
type bearerClient struct {
	mech  string
	start []byte
}

// newBearerClient is the client for mech (saslXOAuth2 or saslOAuthBearer)
// logging in as user with token to host:port.
func newBearerClient(mech, user, token, host string, port int) sasl.Client {
	if mech == saslOAuthBearer {
		_, ir, _ := sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: token, Host: host, Port: port}).Start()
		return &bearerClient{mech: mech, start: ir}
	}
	// https://developers.google.com/gmail/imap/xoauth2-protocol
	return &bearerClient{mech: saslXOAuth2, start: []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")}
}

func (c *bearerClient) Start() (string, []byte, error) { return c.mech, c.start, nil }

func (c *bearerClient) Next(challenge []byte) ([]byte, error) {
	return nil, parseSASLRefusal(c.mech, challenge)
}

// saslAbort is the response that ends a mechanism after its error
// challenge: RFC 7628 section 3.2.3 wants %x01 for OAUTHBEARER; XOAUTH2
// wants an empty response.
func saslAbort(mech string) []byte {
	if mech == saslOAuthBearer {
		return []byte{1}
	}
	return []byte{}
}

// pickMechanism chooses the SASL mechanism for an oauth2 account from
// what the server advertises (offered, upper case; known says whether the
// server advertised a list at all). auto prefers OAUTHBEARER; a mechanism
// set in the config is used even when not advertised.
func pickMechanism(a accounts.Account, offered []string, known bool) (string, error) {
	has := func(m string) bool {
		for _, o := range offered {
			if strings.EqualFold(o, m) {
				return true
			}
		}
		return false
	}
	switch a.SASLMechanism {
	case accounts.SASLXOAuth2:
		return saslXOAuth2, nil
	case accounts.SASLOAuthBearer:
		return saslOAuthBearer, nil
	}
	switch {
	case has(saslOAuthBearer):
		return saslOAuthBearer, nil
	case has(saslXOAuth2), !known:
		return saslXOAuth2, nil
	}
	return "", &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("%s offers no OAuth2 login (SASL %s): set auth = \"password\", or ask the provider",
		a.Host, strings.Join(offered, " "))}
}
