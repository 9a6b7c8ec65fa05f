package iso3166

import (
	"slices"
	"sort"
	"testing"
)

func TestAllHasTheAssignedCount(t *testing.T) {
	all := All()
	if len(all) != 249 {
		t.Fatalf("got %d codes, ISO 3166-1 assigns 249", len(all))
	}
	if !sort.StringsAreSorted(all) {
		t.Fatal("codes are not sorted")
	}
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			t.Fatalf("duplicate code %s", all[i])
		}
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"DE", true}, {"US", true}, {"JP", true}, {"GB", true}, {"ZW", true}, {"AD", true},
		{"de", false}, {"EU", false}, {"UK", false}, {"XX", false}, {"ZZ", false},
		{"", false}, {"D", false}, {"DEU", false}, {"D1", false}, {"é", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.code); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{"DE", "de", "", "ZZZ", "\xff\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Valid(s) != slices.Contains(All(), s) {
			t.Fatalf("Valid(%q) = %v, but the list of codes says otherwise", s, Valid(s))
		}
	})
}

func TestIndexMatchesAll(t *testing.T) {
	for i, c := range All() {
		if Index(c) != i {
			t.Fatalf("Index(%s) = %d, want %d", c, Index(c), i)
		}
	}
	if Index("ZZ") != -1 || Index("") != -1 {
		t.Fatal("unassigned codes must give -1")
	}
}
