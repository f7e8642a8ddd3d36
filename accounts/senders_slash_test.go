package accounts

import "testing"

// TestSenderSlashInLocalPart: a "/" in the local part (RFC 5322 allows it
// in an atom) does not get a sender past a pattern: path.Match's * stopped
// at it, so "a/b@spam.example" was neither ignored nor quiet.
func TestSenderSlashInLocalPart(t *testing.T) {
	a := Account{IgnoreFrom: []string{"*@spam.example"}, QuietFrom: []string{"noreply@*", "x/y@exact.example"}}
	for _, tt := range []struct {
		from string
		want SenderRule
	}{
		{"a/b@spam.example", SenderIgnored},
		{"/@spam.example", SenderIgnored},
		{"ann@spam.example", SenderIgnored},
		{"noreply@git/hub.example", SenderQuiet},
		{"x/y@exact.example", SenderQuiet},
		{"x@exact.example", SenderNormal},
		{"ann@example.org", SenderNormal},
	} {
		if got := a.Sender(SenderAddress(tt.from)); got != tt.want {
			t.Errorf("Sender(%q) = %v, want %v", tt.from, got, tt.want)
		}
	}
}
