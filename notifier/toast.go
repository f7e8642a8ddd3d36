package notifier

// The Windows toast, built and answered here on every platform so that its
// XML and its clicks are tested on any machine; only the push through the
// Windows Runtime (toast_windows.go) is Windows-only.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	toast "git.sr.ht/~jackmordaunt/go-toast"
)

// toastAppID names the app in the Action Centre and groups its toasts.
const toastAppID = "MailSneaker"

// toaster shows notes as toasts with "Open" and "Mark read" and maps the
// activation arguments of a click back to the note it was on.
type toaster struct {
	push     func(n *toast.Notification) error // the Windows Runtime; a fake in tests
	icon     string                            // absolute path of a PNG, or ""
	onAction func(action string, n Note)

	send sync.Mutex // one push at a time, so seq orders what is on screen

	mu     sync.Mutex
	seq    uint64 // the number of the latest toast
	note   Note   // what toast seq shows; zero after Withdraw
	closed bool

	cb sync.Mutex // held while onAction runs, so Close can wait for it
}

// buildToast is the toast for note number seq: clicking it opens, its
// buttons open or mark read. Every argument carries seq, so a click on an
// older toast still in the Action Centre is recognised as such.
func buildToast(note Note, seq uint64, icon string) *toast.Notification {
	id := strconv.FormatUint(seq, 10)
	return &toast.Notification{
		AppID:               toastAppID,
		Title:               toastText(note.Title),
		Body:                toastText(note.Body),
		Icon:                icon,
		ActivationType:      toast.Foreground, // in-process: the activation callback gets the click
		ActivationArguments: ActionOpen + ":" + id,
		Actions: []toast.Action{
			{Type: toast.Foreground, Content: "Open", Arguments: ActionOpen + ":" + id},
			{Type: toast.Foreground, Content: "Mark read", Arguments: ActionMarkRead + ":" + id},
		},
		Audio:    toastAudio(note.Sound),
		Duration: toast.Short,
	}
}

// toastAudio is the toast sound for an account's sound setting. Windows
// plays only its own sound events (ms-winsoundevent:), never a file of an
// unpackaged app, so a freedesktop name maps to the nearest event, any
// other name or a file to the default sound, and "" to silence. Only these
// constants reach the XML: go-toast writes Audio into an attribute
// unescaped.
func toastAudio(sound string) string {
	switch {
	case sound == "":
		return toast.Silent
	case strings.HasPrefix(sound, "message-new-email"), sound == "message":
		return toast.Mail
	case strings.HasPrefix(sound, "message-new-instant"):
		return toast.IM
	case strings.HasPrefix(sound, "alarm-clock-elapsed"):
		return toast.Reminder
	}
	return toast.Default
}

// parseToastArgs splits "action:seq" as buildToast wrote it.
func parseToastArgs(args string) (action string, seq uint64, ok bool) {
	action, num, found := strings.Cut(args, ":")
	if !found || (action != ActionOpen && action != ActionMarkRead) {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil || seq == 0 {
		return "", 0, false
	}
	return action, seq, true
}

// toastText makes a sender's text safe inside go-toast's template, which
// puts title and body into CDATA sections unescaped: "]]>" would end the
// section and let a subject add its own elements (say, an action button),
// and characters XML 1.0 forbids would make Windows reject the whole toast.
func toastText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF, r > utf8.MaxRune:
			return -1
		}
		return r
	}, s)
	return strings.ReplaceAll(s, "]]>", "]] >")
}

// show pushes note, which replaces the current one for clicks.
func (t *toaster) show(ctx context.Context, note Note) error {
	t.send.Lock()
	defer t.send.Unlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return errors.New("toast: notifier closed")
	}
	seq := t.seq + 1
	t.mu.Unlock()
	n := buildToast(note, seq, t.icon)
	// Push takes no context: a hung Windows Runtime must not hang the caller.
	done := make(chan error, 1)
	go func() { done <- t.push(n) }()
	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	t.mu.Lock()
	t.seq, t.note = seq, note
	t.mu.Unlock()
	return nil
}

// withdraw forgets the current note: its mails were read elsewhere, and a
// later click on its toast does nothing. (Toasts cannot be recalled from the
// Action Centre through go-toast.)
func (t *toaster) withdraw() {
	t.mu.Lock()
	t.note = Note{}
	t.mu.Unlock()
}

// activate handles the activation arguments of a click. Only the latest
// toast acts, like the D-Bus notifier, which ignores notifications it has
// replaced: an old toast's "Mark read" must not mark what a newer one shows.
func (t *toaster) activate(args string) {
	action, seq, ok := parseToastArgs(args)
	if !ok {
		return
	}
	t.cb.Lock()
	defer t.cb.Unlock()
	t.mu.Lock()
	note, current := t.note, seq == t.seq && !t.closed && t.note.Count() > 0
	t.mu.Unlock()
	if current {
		t.onAction(action, note)
	}
}

// close stops clicks from reaching onAction and waits for a running one.
func (t *toaster) close() {
	t.cb.Lock()
	defer t.cb.Unlock()
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}
