package oauth

import (
	"strings"
	"testing"
)

// TestProviderTextHasNoFormatCharacters: an error_description with a
// bidi override or a zero-width character does not reach the page and the
// log as it is: the override would show the rest of the message reversed.
func TestProviderTextHasNoFormatCharacters(t *testing.T) {
	for _, desc := range []string{"denied \u202egro.live//:sptth ot og", "a\u200bb", "x\u2066y\u2069", "\ufeffz"} {
		e := redirectError("login.example", "access_denied", desc)
		for _, r := range e.Msg {
			if r == '\u202e' || r == '\u200b' || r == '\u2066' || r == '\u2069' || r == '\ufeff' {
				t.Errorf("description %q: message keeps %U: %q", desc, r, e.Msg)
			}
		}
		if !strings.Contains(e.Msg, "it says: ") {
			t.Errorf("description %q dropped: %q", desc, e.Msg)
		}
	}
}
