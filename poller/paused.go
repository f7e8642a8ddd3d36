package poller

import (
	"context"
	"fmt"
)

// paused is the goroutine of a paused account (enabled = false). It makes
// no checker and holds no connection; it only answers the manager: Sleep's
// acknowledgement, and Mark read on server with an error.
func (m *Manager) paused(ctx context.Context, as *acctState) {
	for {
		p, ok := m.next(ctx, as)
		if !ok {
			return
		}
		if p.closed != nil {
			p.closed()
		}
		select {
		case <-as.poke:
		case j := <-as.marks:
			j.reply <- markResult{err: fmt.Errorf("account %q is paused (enabled = false)", as.acct.Name)}
		case <-ctx.Done():
			return
		}
	}
}
