// Package wake tells when the computer is about to sleep, has woken, or
// has its network back, from the system bus: logind's PrepareForSleep and
// NetworkManager's StateChanged. It is the one owner of the system bus.
// Where there is no system bus (or neither service), it reports nothing and
// the poller's clock-jump check remains the fallback.
package wake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/godbus/dbus/v5"
)

// Event is a change of the computer's state that the app reacts to.
type Event int

// Events.
const (
	Sleep  Event = iota + 1 // about to suspend: PrepareForSleep(true)
	Resume                  // woke up: PrepareForSleep(false)
	Online                  // NetworkManager reached connected-global
)

func (e Event) String() string {
	switch e {
	case Sleep:
		return "sleep"
	case Resume:
		return "resume"
	case Online:
		return "online"
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// The signals, as logind and NetworkManager publish them.
const (
	login1Name  = "org.freedesktop.login1"
	login1Path  = dbus.ObjectPath("/org/freedesktop/login1")
	login1Iface = "org.freedesktop.login1.Manager"
	sleepMember = "PrepareForSleep"

	nmName        = "org.freedesktop.NetworkManager"
	nmPath        = dbus.ObjectPath("/org/freedesktop/NetworkManager")
	nmIface       = "org.freedesktop.NetworkManager"
	nmStateMember = "StateChanged"
	// nmConnectedGlobal is NM_STATE_CONNECTED_GLOBAL: full network access.
	nmConnectedGlobal = 70
)

// defaultAddress is where the system bus listens unless
// DBUS_SYSTEM_BUS_ADDRESS says otherwise (the D-Bus specification's default).
const defaultAddress = "unix:path=/var/run/dbus/system_bus_socket"

// Address returns the system bus address: $DBUS_SYSTEM_BUS_ADDRESS, or the
// well-known socket. It does no I/O.
func Address() string {
	if a := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
		return a
	}
	return defaultAddress
}

// callTimeout bounds each call to the bus daemon.
const callTimeout = 5 * time.Second

// Watch connects to the system bus at addr and returns its Events, in the
// order they came. The channel closes when ctx ends or the bus connection
// is lost. It fails when there is no bus to connect to.
//
// Only the owner of logind's or NetworkManager's well-known name is
// believed: on the system bus no other process can own those names, and
// a signal sent directly to us by anyone else is ignored.
func Watch(ctx context.Context, addr string) (<-chan Event, error) {
	b, err := open(ctx, addr)
	if err != nil {
		return nil, err
	}
	return b.events, nil
}

// bus is a subscribed system bus connection.
type bus struct {
	conn   *dbus.Conn
	events chan Event // closed when the connection is
}

// open connects to the bus at addr and subscribes to the signals, which
// become Events until ctx ends or the connection is lost.
func open(ctx context.Context, addr string) (*bus, error) {
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("connect to the system bus: %w", err)
	}
	sigs := make(chan *dbus.Signal, 16)
	conn.Signal(sigs)
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	for _, rule := range [][]dbus.MatchOption{
		{dbus.WithMatchSender(login1Name), dbus.WithMatchObjectPath(login1Path),
			dbus.WithMatchInterface(login1Iface), dbus.WithMatchMember(sleepMember)},
		{dbus.WithMatchSender(nmName), dbus.WithMatchObjectPath(nmPath),
			dbus.WithMatchInterface(nmIface), dbus.WithMatchMember(nmStateMember)},
	} {
		if err := conn.AddMatchSignalContext(cctx, rule...); err != nil {
			conn.Close()
			return nil, fmt.Errorf("system bus: subscribe: %w", err)
		}
	}
	b := &bus{conn: conn, events: make(chan Event)}
	go func() {
		defer close(b.events)
		defer conn.Close()
		for {
			var s *dbus.Signal
			select {
			case s = <-sigs:
				if s == nil {
					return // the connection closed
				}
			case <-ctx.Done():
				return
			}
			e, ok := event(s)
			if !ok || !fromOwner(ctx, conn, s) {
				continue
			}
			select {
			case b.events <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return b, nil
}

// inhibit takes logind's delay lock on sleep: logind then waits, up to
// its InhibitDelayMaxSec (5 s by default), for release before it
// suspends, so the connections can be closed cleanly. Without logind it
// fails; release is safe to call more than once.
func (b *bus) inhibit(ctx context.Context) (release func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var fd dbus.UnixFD
	err = b.conn.Object(login1Name, login1Path).CallWithContext(ctx, login1Iface+".Inhibit", 0,
		"sleep", "MailSneaker", "Closing the mail connections", "delay").Store(&fd)
	if err != nil {
		return nil, fmt.Errorf("logind: take the sleep delay lock: %w", err)
	}
	f := os.NewFile(uintptr(fd), "logind-inhibit")
	return func() { f.Close() }, nil
}

// event reads s; false if it is none of ours.
func event(s *dbus.Signal) (Event, bool) {
	switch {
	case s.Path == login1Path && s.Name == login1Iface+"."+sleepMember:
		if len(s.Body) != 1 {
			return 0, false
		}
		start, ok := s.Body[0].(bool)
		if !ok {
			return 0, false
		}
		if start {
			return Sleep, true
		}
		return Resume, true
	case s.Path == nmPath && s.Name == nmIface+"."+nmStateMember:
		if len(s.Body) != 1 {
			return 0, false
		}
		st, ok := s.Body[0].(uint32)
		if !ok || st != nmConnectedGlobal {
			return 0, false
		}
		return Online, true
	}
	return 0, false
}

// fromOwner reports whether s comes from the owner of the well-known name
// its interface belongs to.
func fromOwner(ctx context.Context, conn *dbus.Conn, s *dbus.Signal) bool {
	name := nmName
	if s.Path == login1Path {
		name = login1Name
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var owner string
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, name).Store(&owner); err != nil {
		return false
	}
	return owner == s.Sender
}

// Target is what Follow drives: the poller's Manager.
type Target interface {
	Sleep(ctx context.Context) error
	Reconnect(ctx context.Context) error
}

// sleepGrace bounds how long Follow keeps logind waiting for the
// connections to close: below logind's default InhibitDelayMaxSec of 5 s.
const sleepGrace = 4 * time.Second

// Follow watches the system bus at addr and drives t until ctx ends:
// Sleep on Sleep, Reconnect on Resume and Online. While awake it holds
// logind's delay lock on sleep, and releases it once t has closed its
// connections (or after sleepGrace). Without a system bus it logs why and
// returns at once. If the bus goes away while the computer is said to
// sleep, it reconnects t, so that no account waits for a Resume that will
// not come.
func Follow(ctx context.Context, log *slog.Logger, addr string, t Target) {
	b, err := open(ctx, addr)
	if err != nil {
		log.Info("no sleep or network signals; relying on the clock-jump check", "why", err)
		return
	}
	lock := func() func() {
		release, err := b.inhibit(ctx)
		if err != nil {
			log.Debug("no sleep delay lock; connections may die unclosed", "why", err)
			return func() {}
		}
		return release
	}
	drive(ctx, log, b.events, t, lock)
}

// drive applies events to t until the channel closes or t has stopped.
// lock takes the sleep delay lock and returns its release.
func drive(ctx context.Context, log *slog.Logger, events <-chan Event, t Target, lock func() func()) {
	release := lock()
	defer func() { release() }()
	asleep := false
	for e := range events {
		log.Info("system event", "event", e)
		var err error
		switch e {
		case Sleep:
			sctx, cancel := context.WithTimeout(ctx, sleepGrace)
			err = t.Sleep(sctx)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				log.Warn("not every connection closed before sleep", "within", sleepGrace)
				err = nil
			}
			release()
			release = func() {}
		default:
			err = t.Reconnect(ctx)
			if e == Resume {
				release()
				release = lock()
			}
		}
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				log.Debug("system event not applied", "event", e, "err", err)
			}
			return
		}
		asleep = e == Sleep
	}
	if asleep && ctx.Err() == nil {
		log.Info("the system bus went away while asleep; reconnecting")
		_ = t.Reconnect(ctx)
	}
}
