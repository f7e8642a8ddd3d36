package setup

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"mailsneaker/accounts"
	"mailsneaker/poller"
)

// TestBrowserChangePasswordFocus: in a real browser, the page that
// "Change password…" opens has the cursor in the password field, so the
// user can type at once.
func TestBrowserChangePasswordFocus(t *testing.T) {
	bctx := browser(t)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	cfg := filepath.Join(t.TempDir(), "config.toml")
	writeAccount(t, cfg, accounts.Account{Name: "work", Protocol: accounts.IMAP, Host: "imap.example.test", Username: "ann"})
	l, opened, _ := recordingLauncher(t, Options{ConfigPath: cfg}, false)
	l.Edit("work", &poller.CheckError{Kind: poller.KindAuth, Msg: "login refused by imap.example.test: check the password"})
	if len(*opened) != 1 {
		t.Fatalf("opened %q", *opened)
	}
	ctx := tab(t, bctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+(*opened)[0]), chromedp.WaitVisible(chromedp.ID("problem"))); err != nil {
		t.Fatal(err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.activeElement && document.activeElement.id"))
	if err != nil {
		t.Fatal(err)
	}
	if focused != "password" {
		t.Errorf("the focused element is %q, want the password field", focused)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "Edit work — MailSneaker" {
		t.Errorf("title %q (%v), want work's edit page", title, err)
	}
}
