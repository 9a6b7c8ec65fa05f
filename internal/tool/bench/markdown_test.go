package bench

import (
	"strings"
	"testing"
)

func TestReplaceSection(t *testing.T) {
	block := MarkBegin + "\nNEW\n" + MarkEnd
	tests := []struct {
		name, doc, want string
		wantErr         bool
	}{
		{name: "appended to a document without markers", doc: "# Benchmarks\n\n## router\n\ntext\n",
			want: "# Benchmarks\n\n## router\n\ntext\n\n" + block + "\n"},
		{name: "an empty document gets just the section", doc: "", want: block + "\n"},
		{name: "replaced between markers, the rest kept", doc: "# B\n\n" + MarkBegin + "\nOLD\nOLD\n" + MarkEnd + "\n\n## regions\n\nkept\n",
			want: "# B\n\n" + block + "\n\n## regions\n\nkept\n"},
		{name: "an end before the begin is refused", doc: MarkEnd + "\n" + MarkBegin, wantErr: true},
		{name: "a begin without an end is refused", doc: "x\n" + MarkBegin + "\nOLD\n", wantErr: true},
		{name: "two begins are refused", doc: MarkBegin + MarkBegin + MarkEnd, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReplaceSection([]byte(tt.doc), "\nNEW\n\n")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("accepted: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestReplaceSectionIsIdempotent(t *testing.T) {
	doc := []byte("# B\n\n## router\n")
	once, err := ReplaceSection(doc, "S")
	if err != nil {
		t.Fatal(err)
	}
	twice, err := ReplaceSection(once, "S")
	if err != nil {
		t.Fatal(err)
	}
	if string(once) != string(twice) {
		t.Fatalf("second write changed the document:\n%s\n---\n%s", once, twice)
	}
}

func TestReplaceSectionRefusesASectionWithMarkers(t *testing.T) {
	if _, err := ReplaceSection(nil, "a "+MarkEnd); err == nil || !strings.Contains(err.Error(), "marker") {
		t.Fatalf("err = %v", err)
	}
}
