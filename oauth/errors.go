package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/oauth2"
)

// Kinds of sign-in and token errors; an *Error wraps one, so test with
// errors.Is.
var (
	ErrSignInAgain    = errors.New("sign in again")                      // invalid_grant, or no grant stored: the user must sign in
	ErrAccessDenied   = errors.New("access denied")                      // the user said no (access_denied)
	ErrWrongState     = errors.New("wrong state")                        // a redirect that is not this flow's
	ErrFlowDone       = errors.New("sign-in already finished")           // a second redirect for one flow
	ErrProvider       = errors.New("the provider refused")               // another error= in the redirect (invalid_scope, ...)
	ErrTokenEndpoint  = errors.New("token endpoint failed")              // hang, garbage, 5xx, invalid_client, ...
	ErrNoRefreshToken = errors.New("no refresh token")                   // a token answer without one
	ErrTokenCommand   = errors.New("oauth_command gave no access token") // oauth_command failed or printed nothing
)

// Error is a failed sign-in or token renewal, in words a user can act on.
// It never holds a token, a code or a verifier.
type Error struct {
	Kind error  // ErrSignInAgain, ErrAccessDenied, ...
	Msg  string // what happened and what to do
	Err  error  // the cause, if any
}

// Error says what went wrong and what to do.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

// Unwrap gives the kind and the cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// said is text from the provider (error_description, an error code),
// clipped and without control or format characters (a bidi override would
// make the page show the rest reversed): it comes from a redirect, or from
// the network.
func said(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// tokenEndpointError turns a failed token request into an *Error. The
// answer's body is never quoted (a broken server may echo what it got).
func tokenEndpointError(account, host string, err error) *Error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := said(re.ErrorCode)
		if code == "invalid_grant" {
			return &Error{Kind: ErrSignInAgain, Msg: fmt.Sprintf("the sign-in of account %q has expired or was revoked at %s: sign in again", account, host)}
		}
		msg := fmt.Sprintf("the token endpoint of %s refused", host)
		if code != "" {
			msg += " (" + code + ")"
		}
		if d := said(re.ErrorDescription); d != "" {
			msg += ", saying: " + d
		}
		status := ""
		if re.Response != nil {
			status = re.Response.Status
		}
		switch code {
		case "invalid_client", "unauthorized_client":
			msg += ": check oauth_client_id and oauth_client_secret"
		}
		return &Error{Kind: ErrTokenEndpoint, Msg: msg, Err: errors.New("HTTP " + said(status))}
	}
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &Error{Kind: ErrTokenEndpoint, Msg: fmt.Sprintf("the token endpoint of %s did not answer in time: try again later", host)}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: ErrTokenEndpoint, Msg: "the sign-in was stopped", Err: context.Canceled}
	case errors.As(err, &ue):
		return &Error{Kind: ErrTokenEndpoint, Msg: fmt.Sprintf("cannot reach the token endpoint of %s: are you offline?", host), Err: ue.Err}
	}
	// oauth2's own words: "cannot parse json", "server response missing
	// access_token"; they hold no body.
	return &Error{Kind: ErrTokenEndpoint, Msg: fmt.Sprintf("the token endpoint of %s sent an answer that is not a token", host), Err: errors.New(said(strings.TrimPrefix(err.Error(), "oauth2: ")))}
}
