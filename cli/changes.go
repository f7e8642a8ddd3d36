package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"mailsneaker/poller"
)

// PrintChanges writes one line to w whenever a count or an error changes,
// until the subscription ends: the demo's output when no tray host is there.
func PrintChanges(w io.Writer, snaps <-chan poller.Snapshot) {
	last := ""
	for s := range snaps {
		var parts []string
		for _, a := range s.Accounts {
			switch {
			case a.Err != nil:
				parts = append(parts, fmt.Sprintf("%s: %s", a.Name, a.Err.Msg))
			case a.State == poller.StateOK:
				parts = append(parts, fmt.Sprintf("%s: %d new", a.Name, a.New))
			}
		}
		line := fmt.Sprintf("%s — total %d new", strings.Join(parts, ", "), s.Total)
		if line != last && len(parts) > 0 {
			fmt.Fprintf(w, "%s  %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
	}
}
