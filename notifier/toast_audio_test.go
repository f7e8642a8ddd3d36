package notifier

import (
	"bytes"
	"encoding/xml"
	"testing"

	"git.sr.ht/~jackmordaunt/go-toast/tmpl"
)

// TestToastAudio: the toast plays the account's sound as the nearest
// Windows sound event, and nothing when the account's sound is "" (the
// toast used to play the mail sound whatever the setting). A hostile sound
// name never reaches the XML.
func TestToastAudio(t *testing.T) {
	tests := []struct {
		sound       string
		src, silent string
	}{
		{"", "", "true"},
		{"message-new-email", "ms-winsoundevent:Notification.Mail", ""},
		{"message-new-instant", "ms-winsoundevent:Notification.IM", ""},
		{"alarm-clock-elapsed", "ms-winsoundevent:Notification.Reminder", ""},
		{"bell", "ms-winsoundevent:Notification.Default", ""},
		{`C:\Users\ann\ding.wav`, "ms-winsoundevent:Notification.Default", ""},
		{`x" silent="true`, "ms-winsoundevent:Notification.Default", ""},
	}
	for _, tt := range tests {
		t.Run(tt.sound, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tmpl.XMLTemplate.Execute(&buf, buildToast(Note{Title: "1 new mail", Body: "a: b", Sound: tt.sound}, 1, "")); err != nil {
				t.Fatal(err)
			}
			var x struct {
				Audio []struct {
					Src    string `xml:"src,attr"`
					Silent string `xml:"silent,attr"`
					Loop   string `xml:"loop,attr"`
				} `xml:"audio"`
			}
			if err := xml.Unmarshal(buf.Bytes(), &x); err != nil {
				t.Fatalf("toast XML does not parse: %v\n%s", err, buf.String())
			}
			if len(x.Audio) != 1 || x.Audio[0].Src != tt.src || x.Audio[0].Silent != tt.silent || x.Audio[0].Loop == "true" {
				t.Fatalf("audio = %+v, want src %q silent %q, not looping\n%s", x.Audio, tt.src, tt.silent, buf.String())
			}
		})
	}
}
