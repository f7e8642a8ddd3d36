package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPasswordCommand(t *testing.T) {
	for _, tc := range []struct {
		name, command, want, wantErr string
	}{
		{"first line", `printf 's3cret\r\nsecond\n'`, "s3cret", ""},
		{"no newline", `printf 'pw with spaces '`, "pw with spaces ", ""},
		{"failure shows stderr not stdout", `echo LEAKED; echo 'gpg: decryption failed' >&2; echo more >&2; exit 2`, "",
			`password_command of account "acc" failed (exit status 2): gpg: decryption failed`},
		{"empty output", `true`, "", `password_command of account "acc" printed nothing`},
		{"empty first line", `printf '\nLEAKED\n'`, "", `printed nothing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Password(context.Background(), Account{Name: "acc", PasswordCommand: tc.command}, nil)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %q, %v; want error %q", got, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "LEAKED") || strings.Contains(err.Error(), "more") {
				t.Errorf("error shows stdout or more than one stderr line: %v", err)
			}
		})
	}
}

func TestPasswordCommandTimeout(t *testing.T) {
	start := time.Now()
	// The grandchild sleep keeps stdout open: the process group must die.
	_, err := runPasswordCommand(context.Background(), "acc", "echo LEAKED; sleep 30 & sleep 30", 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "LEAKED") {
		t.Errorf("stdout in error: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Password(ctx, Account{Name: "acc", PasswordCommand: "sleep 30"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx deadline: %v", err)
	}
}
