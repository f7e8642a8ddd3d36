//go:build !unix && !windows

package accounts

import "os"

// lockFile does nothing where there is no file locking (wasm, plan9).
func lockFile(*os.File) error { return nil }

func syncDir(string) error { return nil }

func isWindows() bool { return false }
