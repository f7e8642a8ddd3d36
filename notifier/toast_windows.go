package notifier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	toast "git.sr.ht/~jackmordaunt/go-toast"
	"github.com/godbus/dbus/v5"
)

// On Windows notes are toasts (git.sr.ht/~jackmordaunt/go-toast, pure Go,
// no cgo). The API has the shape of the D-Bus one so the caller is the same
// on every system; there is no bus, so conn is unused and may be nil.

// Start starts showing one toast per batch of new mail, as o.Batcher
// decides; Run feeds it the snapshots.
func Start(ctx context.Context, o Options) (*Loop, error) {
	l := newLoop(ctx, o)
	n, err := New(nil, l.action)
	if err != nil {
		return nil, err
	}
	l.sink = n
	l.close = func() { n.Close() }
	return l, nil
}

// toastGUID is MailSneaker's toast activation COM class.
const toastGUID = "{7C6D70DF-A352-4DB1-A67A-DEDC0826D56B}"

// Show shows n once as a toast whose clicks nobody answers.
func Show(ctx context.Context, n Note) error {
	t := &toaster{push: pushToast, icon: toastIcon(), onAction: func(string, Note) {}}
	return t.show(ctx, n)
}

// Notifier shows notes as toasts with "Open" and "Mark read" buttons and
// reports clicks while the program runs.
type Notifier struct {
	t *toaster
}

// New starts answering clicks on toasts; conn is unused (nil is fine).
// onAction is called with ActionOpen or ActionMarkRead and the note that
// was clicked, on a Windows Runtime thread: it must not block for long.
// The activation callback is process-wide: use one Notifier at a time.
func New(conn *dbus.Conn, onAction func(action string, n Note)) (*Notifier, error) {
	t := &toaster{push: pushToast, icon: toastIcon(), onAction: onAction}
	// Our own COM class for clicks: go-toast's default is shared by every
	// program built with it, and the last one registered would get our clicks.
	if err := toast.SetAppData(toast.AppData{AppID: toastAppID, GUID: toastGUID, IconPath: t.icon}); err != nil {
		return nil, fmt.Errorf("register for toasts: %w", err)
	}
	toast.SetActivationCallback(func(args string, _ []toast.UserData) { t.activate(args) })
	return &Notifier{t: t}, nil
}

// Show shows note; clicks on older toasts are ignored from now on.
func (n *Notifier) Show(ctx context.Context, note Note) error { return n.t.show(ctx, note) }

// Withdraw makes a click on the current toast do nothing: its mails were
// read elsewhere.
func (n *Notifier) Withdraw(ctx context.Context) error {
	n.t.withdraw()
	return nil
}

// Close stops answering clicks and waits until no onAction runs.
func (n *Notifier) Close() error {
	n.t.close()
	return nil
}

func pushToast(n *toast.Notification) error { return n.Push() }

// toastIcon is the PNG that ships beside the .exe in the zip, if it is there.
func toastIcon() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(exe), "mailsneaker.png")
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	return p
}
