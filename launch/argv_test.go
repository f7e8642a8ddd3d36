package launch

import (
	"slices"
	"strings"
	"testing"

	"mailsneaker/accounts"
)

func TestArgv(t *testing.T) {
	v := Values{"message_id": "x@y", "folder": "Lists/go", "uid": "42", "account": "work", "url": "https://m.example/"}
	for _, c := range []struct {
		cmd  string
		want []string
	}{
		{"thunderbird mid:{message_id}", []string{"thunderbird", "mid:x@y"}},
		{`mutt -f "={folder}" -e 'push <search>{uid}'`, []string{"mutt", "-f", "=Lists/go", "-e", "push <search>42"}},
		{`open\ me {account} "" {url}`, []string{"open me", "work", "", "https://m.example/"}},
		{"rec {unknown} {message_id}", []string{"rec", "{unknown}", "x@y"}},
		// Shell syntax: sh runs the script, the values are parameters.
		{"notify-send {account} | cat", []string{"sh", "-c", `notify-send "${1}" | cat`, "mailsneaker", "work"}},
		{`echo "id={message_id}" 'f={folder}' > $HOME/x`, []string{"sh", "-c", `echo "id=${1}" 'f='"${2}"'' > $HOME/x`, "mailsneaker", "x@y", "Lists/go"}},
		{"FOO=1 prog {uid}", []string{"sh", "-c", `FOO=1 prog "${1}"`, "mailsneaker", "42"}},
		{"echo ${message_id} {uid}", []string{"sh", "-c", `echo ${message_id} "${1}"`, "mailsneaker", "42"}},
	} {
		got, err := Argv(c.cmd, v)
		if err != nil {
			t.Errorf("Argv(%q): %v", c.cmd, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Argv(%q)\n got %q\nwant %q", c.cmd, got, c.want)
		}
	}
}

func TestArgvRefuses(t *testing.T) {
	for _, c := range []struct{ cmd, id, want string }{
		{"prog {message_id}", "-oProxyCommand=x@y", "starts with -"},
		{"prog {message_id} | cat", "--help@x", "starts with -"},
		{`prog "unclosed {uid}`, "x", "unclosed"},
		{"", "x", "empty"},
	} {
		_, err := Argv(c.cmd, Values{"message_id": c.id})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Argv(%q) with id %q: err %v; want %q", c.cmd, c.id, err, c.want)
		}
	}
	// Inside a word a leading - is harmless.
	if got, err := Argv("thunderbird mid:{message_id}", Values{"message_id": "-x@y"}); err != nil || got[1] != "mid:-x@y" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestPlanBuiltins(t *testing.T) {
	mail := Mail{Account: "work", MessageID: "<a+b/c@example.org>", Folder: "INBOX", UID: "7"}
	for _, c := range []struct {
		with      accounts.OpenWith
		url, argv string
	}{
		{accounts.OpenThunderbird, "", "thunderbird mid:a+b/c@example.org"},
		{accounts.OpenGmail, "https://mail.google.com/mail/u/0/#search/rfc822msgid:a%2Bb%2Fc%40example.org", ""},
		{accounts.OpenOutlook, "https://outlook.office.com/mail/", ""},
		{accounts.OpenDefault, "mid:a+b%2Fc@example.org", ""},
	} {
		m := mail
		m.OpenWith = c.with
		a, err := plan(m, "linux")
		if err != nil || a.url != c.url || strings.Join(a.argv, " ") != c.argv {
			t.Errorf("%s: got %+v, %v", c.with, a, err)
		}
	}
	// open_command wins over open_with and url; on Windows shell syntax is refused.
	m := mail
	m.OpenWith, m.URL, m.OpenCommand = accounts.OpenGmail, "https://x.example/", "client {uid}"
	if a, _ := plan(m, "linux"); !slices.Equal(a.argv, []string{"client", "7"}) {
		t.Errorf("open_command: %+v", a)
	}
	m.OpenCommand = "client {uid} | tee log"
	if _, err := plan(m, "windows"); err == nil {
		t.Error("shell syntax accepted on Windows")
	}
	m.OpenCommand, m.OpenWith = "", ""
	if a, _ := plan(m, "linux"); a.url != "https://x.example/" {
		t.Errorf("url: %+v", a)
	}
}

// FuzzArgvValuesStayArguments: whatever a Message-ID holds, it changes
// neither the words of a plain command nor the script of a shell one: it
// only ever is the argument it stands for.
func FuzzArgvValuesStayArguments(f *testing.F) {
	f.Add("x@y")
	f.Add("<x@y>; rm -rf ~")
	f.Add("$(touch pwned)`id`'\"\\\n{uid}")
	f.Fuzz(func(t *testing.T, id string) {
		if strings.HasPrefix(id, "-") {
			return // refused, tested apart
		}
		plain, err := Argv("prog --id {message_id} mid:{message_id}", Values{"message_id": id})
		if err != nil || !slices.Equal(plain, []string{"prog", "--id", id, "mid:" + id}) {
			t.Fatalf("plain: %q, %v", plain, err)
		}
		for _, cmd := range []string{`prog {message_id} | cat`, `prog "x{message_id}" '{message_id}' > /dev/null`} {
			got, err := Argv(cmd, Values{"message_id": id})
			ref, _ := Argv(cmd, Values{"message_id": "ref"})
			if err != nil || len(got) != len(ref) || got[2] != ref[2] {
				t.Fatalf("%s: %q, %v; the script must not depend on the value (%q)", cmd, got, err, ref)
			}
			for _, p := range got[4:] {
				if p != id {
					t.Fatalf("%s: parameter %q, want %q", cmd, p, id)
				}
			}
		}
	})
}
