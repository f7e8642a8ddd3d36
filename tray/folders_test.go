package tray

import (
	"testing"

	"mailsneaker/poller"
)

func TestFoldersLine(t *testing.T) {
	for _, tc := range []struct {
		name           string
		pushed, polled []string
		want           string
	}{
		{"all pushed", []string{"INBOX", "Work"}, nil, ""},
		{"some polled", []string{"INBOX", "Work"}, []string{"Lists"}, "Pushed: INBOX, Work · Polled: Lists"},
		{"many polled", []string{"INBOX", "F01"}, []string{"F02", "F03", "F04", "F05", "F06"}, "Pushed: INBOX, F01 · Polled: F02, F03, F04 and 2 more"},
		{"none pushed", nil, []string{"INBOX"}, "Polled: INBOX"},
		{"newline in a name", nil, []string{"a\nb"}, "Polled: a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := foldersLine(poller.AccountSnapshot{Protocol: "imap", Pushed: tc.pushed, Polled: tc.polled})
			if got != tc.want {
				t.Errorf("foldersLine = %q, want %q", got, tc.want)
			}
		})
	}
}
