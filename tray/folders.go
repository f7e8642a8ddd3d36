package tray

import (
	"fmt"
	"strings"

	"mailsneaker/poller"
)

// maxFolderNames is how many folder names a folders line spells out per kind.
const maxFolderNames = 3

// foldersLine tells which of an IMAP account's folders the server pushes
// (IDLE) and which are polled, when some are polled; "" otherwise.
func foldersLine(a poller.AccountSnapshot) string {
	if len(a.Polled) == 0 {
		return ""
	}
	names := func(fs []string) string {
		shown := make([]string, 0, maxFolderNames)
		for _, f := range fs[:min(len(fs), maxFolderNames)] {
			shown = append(shown, clean(f))
		}
		s := strings.Join(shown, ", ")
		if more := len(fs) - len(shown); more > 0 {
			s += fmt.Sprintf(" and %d more", more)
		}
		return s
	}
	line := "Polled: " + names(a.Polled)
	if len(a.Pushed) > 0 {
		line = "Pushed: " + names(a.Pushed) + " · " + line
	}
	return truncate(line, MaxLabel)
}
