//go:build !unix && !windows

package instance

import "os"

// tryLock cannot lock here: one instance is not enforced.
func tryLock(*os.File) error { return nil }
