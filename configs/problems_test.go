package configs

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// Every way Parse refuses a config comes back as problems, with the line
// wherever the error knows it, so an editor can mark each one.
func TestProblemsOf(t *testing.T) {
	dev := string(DefaultYAML())
	tests := []struct {
		name string
		data string
		want []Problem
	}{
		{name: "syntax", data: "regions: [\n  - name: x\n   bad",
			want: []Problem{{Line: 1, Message: "did not find expected node content"}}},
		{name: "unknown fields", data: "regions:\n  - name: a\n    bogus: 1\nnope: 2\n",
			want: []Problem{{Line: 3, Message: "field bogus not found in type configs.Region"}, {Line: 4, Message: "field nope not found in type configs.Config"}}},
		{name: "empty", data: "# nothing\n", want: []Problem{{Message: "config is empty"}}},
		{name: "validation", data: strings.Replace(dev, "failover: [us-west]", "failover: [nowhere]", 1),
			want: []Problem{{Path: "regions[0].failover[0]", Message: `unknown region "nowhere"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			got := ProblemsOf(err)
			if tt.name == "validation" {
				// The line comes from addLines; only check there is one.
				if len(got) != 1 || got[0].Path != tt.want[0].Path || got[0].Line == 0 || !strings.Contains(got[0].Message, "nowhere") {
					t.Fatalf("got %+v", got)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := ProblemsOf(errors.New("something else")); !slices.Equal(got, []Problem{{Message: "something else"}}) {
		t.Fatalf("other error: %+v", got)
	}
}
