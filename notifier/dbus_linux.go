package notifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"

	"mailsneaker/internal/sessionbus"
)

// The Desktop Notifications Specification, version 1.2.
const (
	busName   = "org.freedesktop.Notifications"
	busPath   = dbus.ObjectPath("/org/freedesktop/Notifications")
	busIface  = "org.freedesktop.Notifications"
	appName   = "MailSneaker"
	appIcon   = "mail-unread" // in every icon theme; our own is only there after make install
	desktopID = "mailsneaker" // the launcher make install writes: mailsneaker.desktop
)

// Start connects to the session bus (package sessionbus: the tray's bus)
// and listens for clicks on notes; the Loop's Run then shows them. The
// error says why there can be no notifications.
func Start(ctx context.Context, o Options) (*Loop, error) {
	conn, err := sessionbus.Connect(ctx)
	if err != nil {
		return nil, err
	}
	l := newLoop(ctx, o)
	n, err := New(conn, l.action)
	if err != nil {
		conn.Close()
		return nil, err
	}
	l.sink = n
	l.close = func() {
		n.Close()
		conn.Close()
	}
	return l, nil
}

// Show shows n once on a connection of its own, with no actions (nobody is
// left to answer them). The tray uses a Notifier instead.
func Show(ctx context.Context, n Note) error {
	c, err := sessionbus.Connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = send(ctx, c, n, 0, nil)
	return err
}

// Notifier shows notes with "Open" and "Mark read" buttons, each note
// replacing the previous one, and reports clicks.
//
// It uses github.com/esiqveland/notify for the message types but reads the
// signals itself: that library's event loop type-asserts signal bodies
// without checking (a malformed signal from any bus client panics it), logs
// every unrelated signal with the standard logger, does not wait for its
// goroutine in Close, and its calls take no context.
type Notifier struct {
	conn     *dbus.Conn
	onAction func(action string, n Note)
	signals  chan *dbus.Signal
	done     chan struct{}
	exited   chan struct{}
	close    sync.Once

	send sync.Mutex // one Show at a time, so each replaces the last

	mu   sync.Mutex
	id   uint32 // the notification on screen; 0 for none
	note Note   // what it shows
}

// New starts listening for clicks on conn, which stays the caller's to
// close after Close. Give it a connection of its own (sessionbus.Connect): the bus
// filters out signals from anyone but the notification service only for this
// subscription, and other subscriptions on a shared connection would let
// theirs through. onAction is called with ActionOpen or ActionMarkRead
// and the note that was clicked, on the Notifier's goroutine: it must not
// block for long.
func New(conn *dbus.Conn, onAction func(action string, n Note)) (*Notifier, error) {
	n := &Notifier{
		conn:     conn,
		onAction: onAction,
		signals:  make(chan *dbus.Signal, 16),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	// With a well-known sender the bus delivers only what its owner sends.
	if err := conn.AddMatchSignal(n.match()...); err != nil {
		return nil, fmt.Errorf("notifications: subscribe to signals: %w", err)
	}
	conn.Signal(n.signals)
	go n.loop()
	return n, nil
}

func (n *Notifier) match() []dbus.MatchOption {
	return []dbus.MatchOption{dbus.WithMatchSender(busName), dbus.WithMatchObjectPath(busPath), dbus.WithMatchInterface(busIface)}
}

// Show shows note, replacing the previous notification if it is still up.
func (n *Notifier) Show(ctx context.Context, note Note) error {
	n.send.Lock()
	defer n.send.Unlock()
	n.mu.Lock()
	replaces := n.id
	n.mu.Unlock()
	actions := []notify.Action{
		notify.NewDefaultAction("Open"), // a click on the popup
		{Key: ActionMarkRead, Label: "Mark read"},
	}
	id, err := send(ctx, n.conn, note, replaces, actions)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.id, n.note = id, note
	n.mu.Unlock()
	return nil
}

// Withdraw closes the notification on screen, if any: its mails were read
// elsewhere.
func (n *Notifier) Withdraw(ctx context.Context) error {
	n.send.Lock()
	defer n.send.Unlock()
	n.mu.Lock()
	id := n.id
	n.id, n.note = 0, Note{}
	n.mu.Unlock()
	if id == 0 {
		return nil
	}
	err := n.conn.Object(busName, busPath).CallWithContext(ctx, busIface+".CloseNotification", 0, id).Err
	var de dbus.Error
	if err != nil && !errors.As(err, &de) { // a server's error reply means it is gone already
		return fmt.Errorf("close notification: %w", err)
	}
	return nil
}

// Close stops listening for clicks and waits until no onAction runs.
func (n *Notifier) Close() error {
	var err error
	n.close.Do(func() {
		close(n.done)
		<-n.exited
		n.conn.RemoveSignal(n.signals)
		err = n.conn.RemoveMatchSignal(n.match()...)
	})
	return err
}

func (n *Notifier) loop() {
	defer close(n.exited)
	for {
		select {
		case <-n.done:
			return
		case s, ok := <-n.signals:
			if !ok {
				return // the connection closed
			}
			n.handle(s)
		}
	}
}

// handle acts on a signal of ours and ignores anything else: the connection
// may carry other subscriptions, and the server broadcasts its signals for
// every application's notifications.
func (n *Notifier) handle(s *dbus.Signal) {
	if s == nil || s.Path != busPath || len(s.Body) != 2 {
		return
	}
	id, ok := s.Body[0].(uint32)
	if !ok || id == 0 {
		return
	}
	n.mu.Lock()
	if id != n.id {
		n.mu.Unlock()
		return
	}
	note := n.note
	switch s.Name {
	case busIface + ".NotificationClosed":
		n.id, n.note = 0, Note{}
		n.mu.Unlock()
	case busIface + ".ActionInvoked":
		n.mu.Unlock()
		key, _ := s.Body[1].(string)
		switch key {
		case "default", ActionOpen:
			n.onAction(ActionOpen, note)
		case ActionMarkRead:
			n.onAction(ActionMarkRead, note)
		}
	default:
		n.mu.Unlock()
	}
}

// send calls Notify and returns the notification's id.
func send(ctx context.Context, c *dbus.Conn, note Note, replaces uint32, actions []notify.Action) (uint32, error) {
	obj := c.Object(busName, busPath)
	var caps []string
	if err := obj.CallWithContext(ctx, busIface+".GetCapabilities", 0).Store(&caps); err != nil {
		return 0, notifyError(err)
	}
	body := note.Body
	if slices.Contains(caps, "body-markup") {
		body = escapeMarkup(body) // a subject like "<b>50% off</b> & more" must show as written
	}
	if !slices.Contains(caps, "body") {
		body = ""
	}
	n := notify.Notification{
		AppName:       appName,
		ReplacesID:    replaces,
		AppIcon:       appIcon,
		Summary:       note.Title,
		Body:          body,
		Actions:       actions,
		ExpireTimeout: notify.ExpireTimeoutSetByNotificationServer,
	}
	n.AddHint(notify.HintUrgency(notify.UrgencyNormal))
	n.AddHint(notify.Hint{ID: "desktop-entry", Variant: dbus.MakeVariant(desktopID)})
	n.AddHint(notify.Hint{ID: "category", Variant: dbus.MakeVariant("email.arrived")})
	for _, h := range soundHints(note.Sound) {
		n.AddHint(h)
	}
	flat := []string{}
	for _, a := range n.Actions {
		flat = append(flat, a.Key, a.Label)
	}
	var id uint32
	err := obj.CallWithContext(ctx, busIface+".Notify", 0, n.AppName, n.ReplacesID, n.AppIcon,
		n.Summary, n.Body, flat, n.Hints, int32(n.ExpireTimeout/time.Millisecond)).Store(&id)
	if err != nil {
		return 0, notifyError(err)
	}
	return id, nil
}

// notifyError says what to do about a failed call.
func notifyError(err error) error {
	var de dbus.Error
	if errors.As(err, &de) && de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" {
		return fmt.Errorf("no notification service on the session bus (install one, e.g. dunst, or use a desktop that has one): %w", err)
	}
	return fmt.Errorf("notify: %w", err)
}

// escapeMarkup makes plain text safe for a server that reads body markup.
func escapeMarkup(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
