package accounts

import (
	"context"
	"strings"
	"testing"
)

// A command's output is kept only up to maxCommandOutput: a first line
// past it is refused rather than cut (a cut password or token would fail
// later, far from its cause), and output after a good first line is dropped.
func TestSecretCommandOutputIsBounded(t *testing.T) {
	ctx := context.Background()
	long := "head -c 200000 /dev/zero | tr '\\0' a"
	if _, err := Password(ctx, Account{Name: "acc", PasswordCommand: long}, nil); err == nil || !strings.Contains(err.Error(), "longer than 64 KiB") {
		t.Fatalf("endless first line: err = %v", err)
	}
	if _, err := OAuthCommandToken(ctx, Account{Name: "m", OAuthCommand: long}); err == nil || !strings.Contains(err.Error(), "access token") {
		t.Fatalf("oauth_command endless first line: err = %v", err)
	}
	got, err := Password(ctx, Account{Name: "acc", PasswordCommand: "echo pw; head -c 1000000 /dev/zero"}, nil)
	if err != nil || got != "pw" {
		t.Fatalf("first line then much more: got %q, %v", got, err)
	}
}

func TestCappedBuffer(t *testing.T) {
	c := cappedBuffer{max: 4}
	for _, p := range []string{"ab", "cde", "fg"} {
		if n, err := c.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if string(c.b) != "abcd" || !c.over {
		t.Fatalf("kept %q, over %v", c.b, c.over)
	}
}
