package services

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFile(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string // "" means valid
	}{
		{name: "yaml", data: `
regions:
  eu-west:
    payment: {url: "https://payments.eu.internal", timeout: 2s}
    property: {url: "http://127.0.0.1:9000/api"}
  us-east: {}
`},
		{name: "json", data: `{"regions":{"eu-west":{"notification":{"url":"https://n.internal","timeout":"1500ms"}}}}`},
		{name: "empty", data: "", wantErr: "empty"},
		{name: "unknown field", data: "regions: {eu-west: {payments: {url: 'https://x'}}}", wantErr: "field payments not found"},
		{name: "unknown endpoint field", data: "regions: {eu-west: {payment: {url: 'https://x', token: s3cret}}}", wantErr: "field token not found"},
		{name: "two documents", data: "regions: {a: {}}\n---\nregions: {b: {}}", wantErr: "more than one YAML document"},
		{name: "no regions", data: "regions: {}", wantErr: "at least one region"},
		{name: "every problem reported", data: `
regions:
  eu-west:
    payment: {url: "ftp://x"}
    property: {url: "https://user:pw@x"}
  us-east:
    notification: {url: "https://x?a=1", timeout: 2m}
`, wantErr: "regions.eu-west.payment.url: must be an absolute http or https URL; " +
			"regions.eu-west.property.url: must not hold credentials (use authTokenFile); " +
			"regions.us-east.notification.url: must have no query or fragment"},
		{name: "timeout too long", data: "regions: {a: {payment: {url: 'https://x', timeout: 2m}}}",
			wantErr: "regions.a.payment.timeout: must be between 0 (default 3s) and 1m0s"},
		{name: "no url", data: "regions: {a: {payment: {timeout: 1s}}}", wantErr: "regions.a.payment.url: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile([]byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(f.Regions) == 0 {
					t.Fatal("no regions")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadRegion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "services.yaml")
	data := "regions:\n  eu-west:\n    payment: {url: 'https://p.internal', timeout: 2s}\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadRegion(path, "eu-west")
	if err != nil {
		t.Fatal(err)
	}
	if c.Payment == nil || c.Payment.Timeout != 2*time.Second || c.Property != nil {
		t.Fatalf("config %+v", c)
	}
	if got := c.String(); got != "payment=https://p.internal (timeout 2s) property=in-memory notification=in-memory" {
		t.Fatalf("String() = %q", got)
	}
	if _, err := LoadRegion(path, "us-east"); !errors.Is(err, ErrNoRegion) {
		t.Fatalf("a region not in the file: got %v, want ErrNoRegion", err)
	}
	if _, err := LoadRegion(path+"-missing", "eu-west"); err == nil {
		t.Fatal("a missing file was accepted")
	}
}

func TestEndpointDefaults(t *testing.T) {
	if got := (Endpoint{}).withDefaults().Timeout; got != DefaultTimeout {
		t.Fatalf("zero timeout became %s, want %s", got, DefaultTimeout)
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte("regions: {eu-west: {payment: {url: 'https://x', timeout: 2s, authTokenFile: /t}}}"))
	f.Add([]byte(`{"regions":{"a":{"property":{"url":"http://h"}}}}`))
	f.Add([]byte("regions: {a: {notification: {url: 'https://user@x'}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile(data)
		if err != nil {
			return
		}
		// What parses is valid: every endpoint has a usable URL and timeout.
		for name, c := range file.Regions {
			for _, e := range []*Endpoint{c.Payment, c.Property, c.Notification} {
				if e != nil && e.validate() != nil {
					t.Fatalf("region %q: accepted an invalid endpoint %+v", name, *e)
				}
			}
		}
	})
}
