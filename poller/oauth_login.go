package poller

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailsneaker/accounts"
	"mailsneaker/oauth"
)

// signInWait is the wait after a KindSignIn error: only the user can fix
// it, and a sign-in pokes the account (CheckNow), so the retry is a
// fallback for a sign-in made by another process.
const signInWait = time.Hour

// tokenSource is the account's oauth.Source: Options.OAuth, or a new one
// with the default keychain.
func (o *Options) tokenSource(a accounts.Account) *oauth.Source {
	if o != nil && o.OAuth != nil {
		return o.OAuth
	}
	return oauth.NewSource(a, nil, nil)
}

// tokenSoon is passwordSoon for an oauth2 account: it gets the access
// token first, so that an account that must sign in again opens no
// connection, and a refresh (rare: the token lives an hour) is not raced
// against the server's greeting.
func (o *Options) tokenSoon(ctx context.Context, a accounts.Account) (func() (string, error), error) {
	tok, err := o.tokenSource(a).Token(ctx)
	if err != nil {
		return nil, tokenError(a, err)
	}
	if strings.ContainsAny(tok, "\r\n\x00") {
		return nil, &CheckError{Kind: KindConfig, Msg: fmt.Sprintf("the access token of account %q contains a line break", a.Name)}
	}
	return func() (string, error) { return tok, nil }, nil
}

// tokenError gives a failed Source.Token its kind for the UI; anything
// else (a keychain error, no client ID, oauth_command) is KindConfig.
func tokenError(a accounts.Account, err error) error {
	kind := KindConfig
	switch {
	case errors.Is(err, oauth.ErrSignInAgain):
		kind = KindSignIn
	case errors.Is(err, oauth.ErrTokenEndpoint):
		kind = KindNetwork // a hang, an outage, garbage from a proxy: try again later
	}
	return &CheckError{Kind: kind, Msg: fmt.Sprintf("cannot get an access token for account %q", a.Name), Err: err}
}

// tokenRefused is the error for a login the server refused with a token
// we thought good: the token is dropped, so that the next try gets a new
// one. said is the server's refusal (already masked).
func tokenRefused(a accounts.Account, o *Options, tok, mech string, said error) error {
	if a.OAuthCommand == "" {
		o.tokenSource(a).Invalidate(tok)
	}
	msg := fmt.Sprintf("login refused by %s (%s): the access token was not accepted for user %q; ", a.Host, mech, a.Username)
	if a.OAuthCommand != "" {
		msg += "check that oauth_command prints a fresh access token for this user and server"
	} else {
		msg += "it is renewed at the next try; if this goes on, sign in again"
	}
	return &CheckError{Kind: KindAuth, Msg: msg, Err: said}
}

// imapOAuthLogin logs in with AUTHENTICATE (RFC 9051 section 6.2.2) and
// XOAUTH2 or OAUTHBEARER. On failure the caller closes the connection: a
// command left waiting for the response to an error challenge is no use.
func imapOAuthLogin(ctx context.Context, a accounts.Account, o *Options, c *imapclient.Client, caps imap.CapSet, tok string) error {
	mech, err := pickMechanism(a, caps.AuthMechanisms(), true)
	if err != nil {
		return err
	}
	o.logger().Debug("imap AUTHENTICATE", "account", a.Name, "mechanism", mech, "user", a.Username)
	sc := newBearerClient(mech, a.Username, tok, a.Host, a.Port)
	err = c.Authenticate(sc)
	if err == nil {
		return nil
	}
	// A server that quotes the command in its reply quotes the initial
	// response too: base64 of the token, as good as the token.
	_, ir, _ := sc.Start()
	ir64 := base64.StdEncoding.EncodeToString(ir)
	mask := func(err error) error {
		return imapMask(imapMask(imapMask(err, tok), ir64), strings.TrimRight(ir64, "="))
	}
	var ie *imap.Error
	var sr *saslRefusal
	switch {
	case errors.As(err, &sr):
		return tokenRefused(a, o, tok, mech, sr)
	case errors.As(err, &ie):
		if ie.Code != "" && ie.Code != imap.ResponseCodeAuthenticationFailed && ie.Code != imap.ResponseCodeAuthorizationFailed {
			return mask(imapLoginRefused(a, ie, err))
		}
		return mask(tokenRefused(a, o, tok, mech, err))
	}
	return mask(imapNetErr(a, "authenticate", err))
}

// pop3MaxAuthLine is the longest AUTH command line a server must take,
// CRLF included (RFC 5034 section 4).
const pop3MaxAuthLine = 255

// oauthLogin logs in with AUTH (RFC 5034) and XOAUTH2 or OAUTHBEARER,
// through go-pop3's Send and ReadOne. The initial response goes on the
// AUTH line when the line fits in 255 octets, else after the server's
// empty "+" challenge. An error challenge is answered as the mechanism
// wants, so that the server ends the exchange with -ERR.
func (s *pop3Session) oauthLogin() error {
	a, tok := s.p.a, s.pw
	var offered []string
	known := false
	for line := range strings.Lines(string(s.capas)) {
		if f := strings.Fields(line); len(f) > 0 && strings.EqualFold(f[0], "SASL") {
			offered, known = f[1:], true
		}
	}
	mech, err := pickMechanism(a, offered, known)
	if err != nil {
		return err
	}
	s.p.o.logger().Debug("pop3 AUTH", "account", a.Name, "mechanism", mech, "user", a.Username)
	_, ir, _ := newBearerClient(mech, a.Username, tok, a.Host, a.Port).Start()
	ir64 := base64.StdEncoding.EncodeToString(ir)
	mask := strings.NewReplacer(tok, "********", ir64, "********")
	fail := func(what string, err error) error {
		return s.p.fail(s.ctx, s.d, what, errors.New(mask.Replace(err.Error())), tok)
	}
	line := "AUTH " + mech + " " + ir64
	cont := false
	if len(line)+2 > pop3MaxAuthLine {
		line, cont = "AUTH "+mech, true
	}
	send := func(l string) error {
		s.c.expect(s.p.lim.reply)
		if err := s.conn.Send(l); err != nil {
			return fail("AUTH", err)
		}
		return nil
	}
	// read returns the server's line: ok for +OK, challenge (decoded) and
	// isCont for "+ ...", refused for -ERR.
	read := func() (challenge []byte, isCont bool, refused error, err error) {
		_, err = s.conn.ReadOne()
		if err == nil {
			return nil, false, nil, nil
		}
		rest, isCont := strings.CutPrefix(err.Error(), "unknown response: +")
		if isCont && s.c.answered() { // go-pop3 knows only +OK and -ERR
			rest, _, _ = strings.Cut(rest, ". Neither -ERR, nor +OK")
			ch, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
			if derr != nil {
				return nil, false, nil, fail("AUTH", fmt.Errorf("a challenge that is not base64"))
			}
			return ch, true, nil, nil
		}
		if s.refused(err) {
			return nil, false, err, nil
		}
		return nil, false, nil, fail("AUTH", err)
	}
	if err := send(line); err != nil {
		return err
	}
	ch, isCont, refused, err := read()
	if err != nil {
		return err
	}
	if cont && isCont && len(ch) == 0 {
		if err := send(ir64); err != nil {
			return err
		}
		ch, isCont, refused, err = read()
		if err != nil {
			return err
		}
	} else if cont && refused == nil {
		return fail("AUTH", fmt.Errorf("no empty challenge for the initial response"))
	}
	var sr *saslRefusal
	if isCont { // the error challenge
		sr = parseSASLRefusal(mech, ch)
		if err := send(base64.StdEncoding.EncodeToString(saslAbort(mech))); err != nil {
			return err
		}
		_, _, refused, err = read()
		if err != nil {
			return err
		}
		if refused == nil {
			return fail("AUTH", fmt.Errorf("the server went on after its error challenge"))
		}
	}
	if refused != nil {
		cause := error(&ServerReply{Text: pop3Clip(pop3Clean(mask.Replace(refused.Error())))})
		if sr != nil {
			cause = errors.Join(sr, cause)
		}
		switch pop3Code(refused.Error()) {
		case "IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM":
			return s.loginFailed(errors.New(mask.Replace(refused.Error())))
		}
		return tokenRefused(a, s.p.o, tok, mech, cause)
	}
	return nil
}
