package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionString(t *testing.T) {
	vcs := func(kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "mailsneaker", Version: "(devel)"}}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	withVersion := func(v string, bi *debug.BuildInfo) *debug.BuildInfo { bi.Main.Version = v; return bi }
	const rev = "14bdd908d401df87c4ba42b2ae9bfcf079327952"
	for _, tc := range []struct {
		name, stamped string
		bi            *debug.BuildInfo
		ok            bool
		want          string
	}{
		{"ldflags wins", "v1.2.3", vcs("vcs.revision", rev, "vcs.modified", "true"), true, "v1.2.3"},
		{"clean checkout", "dev", vcs("vcs", "git", "vcs.revision", rev, "vcs.modified", "false"), true, "dev-14bdd908d401"},
		{"modified checkout", "dev", vcs("vcs.revision", rev, "vcs.modified", "true"), true, "dev-14bdd908d401-dirty"},
		{"short revision", "dev", vcs("vcs.revision", "abc"), true, "dev-abc"},
		{"no vcs (-buildvcs=false)", "dev", vcs(), true, "dev"},
		{"no build info", "dev", nil, false, "dev"},
		{"go install @version", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, true, "v1.4.0"},
		{"pseudo-version from git (Go 1.24+)", "dev", withVersion("v0.0.0-20261130055600-14bdd908d401+dirty", vcs("vcs.revision", rev, "vcs.modified", "true")), true, "dev-14bdd908d401-dirty"},
		{"build on a tag", "dev", withVersion("v1.5.0", vcs("vcs.revision", rev, "vcs.modified", "false")), true, "v1.5.0"},
		{"empty stamp", "", vcs("vcs.revision", rev), true, "dev-14bdd908d401"},
	} {
		if got := Version(tc.stamped, tc.bi, tc.ok); got != tc.want {
			t.Errorf("%s: Version = %q, want %q", tc.name, got, tc.want)
		}
	}
}
