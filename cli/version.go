package cli

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// pseudoVersion matches the end of a Go pseudo-version:
// v0.0.0-20261130055600-60d932e3a828, maybe with +dirty.
var pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}(\+dirty)?$`)

// Version is what --version prints: the stamped version if there is
// one; else a release version from the build info (`go install ...@v1.2.3`,
// or a build on a tag); else, for a plain `go build` in a git checkout,
// "dev-" and the commit (12 hex digits, "-dirty" when the tree had
// changes). Go records the commit only when it can run git (-buildvcs, on
// by default in a checkout).
func Version(stamped string, bi *debug.BuildInfo, ok bool) string {
	if stamped != "" && stamped != "dev" {
		return stamped
	}
	if !ok || bi == nil {
		return "dev"
	}
	// Go 1.24+ also sets the module version from git: a tag, or a
	// pseudo-version whose commit the vcs settings give more plainly.
	if v := bi.Main.Version; v != "" && v != "(devel)" && !pseudoVersion.MatchString(v) {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "dev-" + strings.ToLower(rev)
	if dirty {
		v += "-dirty"
	}
	return v
}
