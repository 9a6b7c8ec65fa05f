package strictyaml

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	type doc struct {
		Name string `yaml:"name"`
	}
	tests := []struct {
		name, data string
		want       doc
		wantErr    string // "" means success
		wantIs     error
	}{
		{name: "yaml", data: "name: a", want: doc{Name: "a"}},
		{name: "json", data: `{"name":"a"}`, want: doc{Name: "a"}},
		{name: "unknown field", data: "name: a\nnmae: b", wantErr: "field nmae not found"},
		{name: "empty", data: "", wantIs: ErrEmpty},
		{name: "comments only", data: "# nothing\n", wantIs: ErrEmpty},
		{name: "two documents", data: "name: a\n---\nname: b", wantIs: ErrMultipleDocuments},
		{name: "not yaml", data: "name: [", wantErr: "yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			err := Decode([]byte(tt.data), &got)
			switch {
			case tt.wantIs != nil:
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("got %v, want %v", err, tt.wantIs)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
			case err != nil || got != tt.want:
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
