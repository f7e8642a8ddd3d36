package notifier

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	toast "git.sr.ht/~jackmordaunt/go-toast"
	"git.sr.ht/~jackmordaunt/go-toast/tmpl"
)

// toastXML is the XML go-toast hands the Windows Runtime for n, parsed.
type toastXML struct {
	XMLName        xml.Name `xml:"toast"`
	ActivationType string   `xml:"activationType,attr"`
	Launch         string   `xml:"launch,attr"`
	Images         []struct {
		Src string `xml:"src,attr"`
	} `xml:"visual>binding>image"`
	Texts   []string `xml:"visual>binding>text"`
	Actions []struct {
		ActivationType string `xml:"activationType,attr"`
		Content        string `xml:"content,attr"`
		Arguments      string `xml:"arguments,attr"`
	} `xml:"actions>action"`
}

func renderToast(t *testing.T, n *toast.Notification) toastXML {
	t.Helper()
	var buf bytes.Buffer
	if err := tmpl.XMLTemplate.Execute(&buf, n); err != nil {
		t.Fatal(err)
	}
	var x toastXML
	if err := xml.Unmarshal(buf.Bytes(), &x); err != nil {
		t.Fatalf("toast XML does not parse: %v\n%s", err, buf.String())
	}
	return x
}

func TestToastXML(t *testing.T) {
	tests := []struct {
		name        string
		note        Note
		title, body string
	}{
		{"a batch", Note{Title: "2 new mails", Body: "Ann: Hello\nBob: Lunch?"},
			"2 new mails", "Ann: Hello\nBob: Lunch?"},
		{"markup stays text", Note{Title: "1 new mail", Body: `Shop: <b>50% off</b> & "more"`},
			"1 new mail", `Shop: <b>50% off</b> & "more"`},
		{"a subject cannot end the CDATA section", Note{Title: "1 new mail",
			Body: `x: ]]></text><text>forged</text></binding></visual><actions><action content="Pay" arguments="https://evil"/></actions><![CDATA[`},
			"1 new mail", `x: ]] ></text><text>forged</text></binding></visual><actions><action content="Pay" arguments="https://evil"/></actions><![CDATA[`},
		{"characters XML forbids are dropped", Note{Title: "1 new mail", Body: "a\x00b\x1bc\uFFFEd\xffe"},
			"1 new mail", "abcd\uFFFDe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := renderToast(t, buildToast(tt.note, 7, `C:\Program Files\MailSneaker\mailsneaker.png`))
			if want := []string{tt.title, tt.body}; !reflect.DeepEqual(x.Texts, want) {
				t.Errorf("texts = %q, want %q", x.Texts, want)
			}
			if x.ActivationType != "foreground" || x.Launch != "open:7" {
				t.Errorf("toast activation = %q %q, want foreground open:7", x.ActivationType, x.Launch)
			}
			if len(x.Images) != 1 || x.Images[0].Src != `C:\Program Files\MailSneaker\mailsneaker.png` {
				t.Errorf("images = %+v", x.Images)
			}
			var got []string
			for _, a := range x.Actions {
				got = append(got, a.ActivationType+" "+a.Content+" "+a.Arguments)
			}
			want := []string{"foreground Open open:7", "foreground Mark read mark-read:7"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("actions = %q, want %q", got, want)
			}
		})
	}
}

func TestToastNoIcon(t *testing.T) {
	if x := renderToast(t, buildToast(Note{Title: "1 new mail"}, 1, "")); len(x.Images) != 0 {
		t.Errorf("images = %+v, want none without an icon", x.Images)
	}
}

func TestParseToastArgs(t *testing.T) {
	tests := []struct {
		args   string
		action string
		seq    uint64
		ok     bool
	}{
		{"open:1", ActionOpen, 1, true},
		{"mark-read:42", ActionMarkRead, 42, true},
		{"mark-read:0", "", 0, false},
		{"mark-read:", "", 0, false},
		{"mark-read:-1", "", 0, false},
		{"delete:3", "", 0, false},
		{"open", "", 0, false},
		{"", "", 0, false},
		{"https://example.com", "", 0, false},
	}
	for _, tt := range tests {
		action, seq, ok := parseToastArgs(tt.args)
		if action != tt.action || seq != tt.seq || ok != tt.ok {
			t.Errorf("parseToastArgs(%q) = %q, %d, %v; want %q, %d, %v", tt.args, action, seq, ok, tt.action, tt.seq, tt.ok)
		}
	}
}

// fakeRuntime records pushed toasts.
type fakeRuntime struct {
	mu     sync.Mutex
	pushed []*toast.Notification
	err    error
}

func (f *fakeRuntime) push(n *toast.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.pushed = append(f.pushed, n)
	return nil
}

type click struct {
	action string
	note   Note
}

func TestToasterClicks(t *testing.T) {
	rt := &fakeRuntime{}
	var clicks []click
	tr := &toaster{push: rt.push, onAction: func(a string, n Note) { clicks = append(clicks, click{a, n}) }}
	ctx := context.Background()
	first := Note{Title: "1 new mail", Body: "a: A", IDs: map[string][]string{"home": {"a"}}}
	second := Note{Title: "1 new mail", Body: "b: B", IDs: map[string][]string{"home": {"b"}}}
	if err := tr.show(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := tr.show(ctx, second); err != nil {
		t.Fatal(err)
	}
	if len(rt.pushed) != 2 {
		t.Fatalf("pushed %d toasts, want 2", len(rt.pushed))
	}
	// The buttons of the toast on screen, as the Windows Runtime reports them.
	cur := rt.pushed[1]
	tr.activate(cur.ActivationArguments)
	tr.activate(cur.Actions[1].Arguments)
	// The first toast, still in the Action Centre, was replaced: its Mark
	// read must not mark b, nor a (shown before b and maybe read since).
	tr.activate(rt.pushed[0].Actions[1].Arguments)
	tr.activate("mark-read:99")
	tr.activate("garbage")
	want := []click{{ActionOpen, second}, {ActionMarkRead, second}}
	if !reflect.DeepEqual(clicks, want) {
		t.Fatalf("clicks = %+v, want %+v", clicks, want)
	}
	tr.withdraw()
	tr.activate(cur.Actions[1].Arguments)
	if len(clicks) != 2 {
		t.Fatalf("a click after Withdraw acted: %+v", clicks[2:])
	}
}

func TestToasterPushError(t *testing.T) {
	rt := &fakeRuntime{}
	var clicks int
	tr := &toaster{push: rt.push, onAction: func(string, Note) { clicks++ }}
	note := Note{Title: "1 new mail", IDs: map[string][]string{"home": {"a"}}}
	if err := tr.show(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	rt.err = errors.New("no toast for you")
	if err := tr.show(context.Background(), Note{Title: "2", IDs: map[string][]string{"home": {"b"}}}); err == nil {
		t.Fatal("show returned no error when the push failed")
	}
	// The toast that did show still answers.
	tr.activate(rt.pushed[0].Actions[1].Arguments)
	if clicks != 1 {
		t.Fatalf("clicks = %d, want 1", clicks)
	}
}

// A Windows Runtime that never answers must not hang the caller past its
// context.
func TestToasterPushHangs(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	tr := &toaster{push: func(*toast.Notification) error { <-release; return nil }, onAction: func(string, Note) {}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.show(ctx, Note{Title: "x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("show = %v, want the context's error", err)
	}
}

// Close waits for a running onAction, and no click acts after it.
func TestToasterClose(t *testing.T) {
	rt := &fakeRuntime{}
	started, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var calls int
	tr := &toaster{push: rt.push, onAction: func(string, Note) {
		mu.Lock()
		calls++
		mu.Unlock()
		close(started)
		<-release
	}}
	if err := tr.show(context.Background(), Note{Title: "1", IDs: map[string][]string{"home": {"a"}}}); err != nil {
		t.Fatal(err)
	}
	args := rt.pushed[0].Actions[1].Arguments
	go tr.activate(args)
	<-started
	closed := make(chan struct{})
	go func() { tr.close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("close returned while onAction was running")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not return after onAction ended")
	}
	tr.activate(args)
	if err := tr.show(context.Background(), Note{Title: "2"}); err == nil {
		t.Error("show after close succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Fatalf("onAction ran %d times, want 1 (none after close)", calls)
	}
	if !strings.HasPrefix(args, ActionMarkRead+":") {
		t.Fatalf("args = %q", args)
	}
}
