//go:build !unix

package seen

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs") }
