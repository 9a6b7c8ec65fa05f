package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}}
	withVCS := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Version: "v0.0.0-20261130082400-267e7bd1a2b3"},
		Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "267e7bd1a2b3c4d5e6f708192a3b4c5d6e7f8091"}},
	}
	for _, tc := range []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		ok      bool
		want    string
	}{
		{"stamped by make build", "267e7bd-dirty", installed, true, "267e7bd-dirty, go1.26.8"},
		{"go install of a tag", "", installed, true, "v1.2.3, go1.26.8"},
		{"go build in a clone with VCS stamping", "", withVCS, true,
			"v0.0.0-20261130082400-267e7bd1a2b3, revision 267e7bd1a2b3c4d5e6f708192a3b4c5d6e7f8091, go1.26.8"},
		{"nothing recorded", "", &debug.BuildInfo{GoVersion: "go1.26.8"}, true, "(devel), go1.26.8"},
		{"no build info", "", nil, false, "unknown, " + runtime.Version()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildVersion(tc.stamped, tc.info, tc.ok); got != tc.want {
				t.Errorf("buildVersion = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := run(t, "--version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "regiongate version ") {
		t.Errorf("--version printed %q", out)
	}
}
