package launch

import "testing"

func TestFileTarget(t *testing.T) {
	for _, tc := range []struct{ goos, path, want string }{
		{"linux", "/run/user/1000/mailsneaker/setup-1.html", "file:///run/user/1000/mailsneaker/setup-1.html"},
		{"darwin", "/Users/ann/Library/Caches/mailsneaker/run/setup 2.html", "file:///Users/ann/Library/Caches/mailsneaker/run/setup%202.html"},
		{"windows", `C:\Users\ann\AppData\Local\mailsneaker\run\setup-3.html`, `C:\Users\ann\AppData\Local\mailsneaker\run\setup-3.html`},
	} {
		if got := fileTarget(tc.goos, tc.path); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.goos, got, tc.want)
		}
	}
}
