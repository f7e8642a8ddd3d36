package poller

import "testing"

func TestWordDecoderCharsets(t *testing.T) {
	for in, want := range map[string]string{
		"=?windows-1252?Q?caf=E9_cr=E8me?=": "café crème",
		"=?KOI8-R?B?8NLJ18XU?=":             "Привет",
		"=?ISO-8859-2?Q?=A3=F3d=BC?=":       "Łódź",
		"=?UTF-8?B?R3LDvMOfZQ==?=":          "Grüße",
	} {
		got, err := newWordDecoder().DecodeHeader(in)
		if err != nil || got != want {
			t.Errorf("DecodeHeader(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
