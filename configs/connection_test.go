package configs_test

import (
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
)

// withRegion is minimalYAML with extra lines in its region.
func withRegion(lines string) []byte {
	return []byte(minimalYAML + lines)
}

// A tls block (even empty) or an API key turns TLS on; equal configs give
// equal, comparable Connections, so only a real change re-dials.
func TestConnectionOfTLSAndAPIKeys(t *testing.T) {
	tests := []struct {
		name  string
		lines string
		want  configs.Connection
	}{
		{"plain text", "", configs.Connection{}},
		{"empty tls block", "    tls: {}\n", configs.Connection{UseTLS: true}},
		{"mutual TLS", "    tls: {caFile: /ca.pem, certFile: /c.pem, keyFile: /k.pem, serverName: t.internal}\n",
			configs.Connection{UseTLS: true, TLS: configs.TLS{CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem", ServerName: "t.internal"}}},
		{"API key alone", "    apiKey: {env: TEMPORAL_API_KEY}\n", configs.Connection{UseTLS: true, APIKey: configs.APIKey{Env: "TEMPORAL_API_KEY"}}},
		{"API key from a file", "    apiKey: {file: /run/key}\n", configs.Connection{UseTLS: true, APIKey: configs.APIKey{File: "/run/key"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := configs.Parse(withRegion(tt.lines))
			if err != nil {
				t.Fatal(err)
			}
			b, err := configs.Parse(withRegion(tt.lines + "    callTimeout: 2s\n"))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Endpoint, tt.want.Namespace = "eu.example:7233", "prod-eu"
			if got := a.Regions[0].Connection(); got != tt.want {
				t.Fatalf("connection %+v, want %+v", got, tt.want)
			}
			if a.Regions[0].Connection() != b.Regions[0].Connection() {
				t.Fatal("an in-place edit changed the connection")
			}
		})
	}
}

func TestConnectionValidation(t *testing.T) {
	tests := []struct {
		name, lines, path, msg string
	}{
		{"certificate without key", "    tls: {certFile: /c.pem}\n", "regions[0].tls", "certFile and keyFile go together"},
		{"key without certificate", "    tls: {keyFile: /k.pem}\n", "regions[0].tls", "certFile and keyFile go together"},
		{"server name with a port", "    tls: {serverName: \"t:7233\"}\n", "regions[0].tls.serverName", "must be a host name"},
		{"API key from nowhere", "    apiKey: {}\n", "regions[0].apiKey", "exactly one of file and env"},
		{"API key from two places", "    apiKey: {file: /k, env: K}\n", "regions[0].apiKey", "exactly one of file and env"},
		{"bad variable name", "    apiKey: {env: \"MY KEY\"}\n", "regions[0].apiKey.env", "environment variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configs.Parse(withRegion(tt.lines))
			ps := problemsOf(t, err)
			if !findProblem(ps, tt.path, tt.msg) {
				t.Fatalf("want %s: %s, got %v", tt.path, tt.msg, ps)
			}
			if ps[0].Line != 10 {
				t.Errorf("line %d, want 10", ps[0].Line)
			}
		})
	}
}

// An inline key is refused with a message that says why and where.
func TestInlineAPIKeyIsRefused(t *testing.T) {
	_, err := configs.Parse(withRegion("    apiKey: tmprl-secret-1234\n"))
	if err == nil || !strings.Contains(err.Error(), "line 10: apiKey must be {file: PATH} or {env: VARIABLE}") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "tmprl-secret-1234") {
		t.Fatalf("the error repeats the key: %v", err)
	}
}

// Temporal Cloud endpoints without credentials, or with a namespace Cloud
// does not serve there, are warned about; everything else is quiet.
func TestCloudWarnings(t *testing.T) {
	region := func(endpoint, namespace, extra string) []byte {
		return []byte(strings.Replace(minimalYAML, "    endpoint: eu.example:7233\n",
			"    endpoint: "+endpoint+"\n    namespace: "+namespace+"\n"+extra, 1))
	}
	mtls := "    tls: {certFile: /c.pem, keyFile: /k.pem}\n"
	tests := []struct {
		name string
		data []byte
		want []string // "path: message fragment"
	}{
		{"self-hosted", region("temporal.internal:7233", "prod-eu", ""), nil},
		{"namespace endpoint with mTLS", region("payments.a2dd6.tmprl.cloud:7233", "payments.a2dd6", mtls), nil},
		{"regional endpoint with an API key", region("us-east-1.aws.api.temporal.io:7233", "payments.a2dd6", "    apiKey: {env: K}\n"), nil},
		{"namespace endpoint without credentials", region("payments.a2dd6.tmprl.cloud:7233", "payments.a2dd6", "    tls: {}\n"),
			[]string{"regions[0].endpoint: without credentials"}},
		{"regional endpoint with only a certificate", region("us-east-1.aws.api.temporal.io:7233", "payments.a2dd6", mtls),
			[]string{"regions[0].endpoint: regional endpoint takes API keys"}},
		{"namespace Cloud does not serve there", region("payments.a2dd6.tmprl.cloud:7233", "prod-eu", mtls),
			[]string{"regions[0].namespace: Temporal Cloud serves namespace payments.a2dd6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := configs.Parse(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Warnings()
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				path, msg, _ := strings.Cut(w, ": ")
				if got[i].Path != path || !strings.Contains(got[i].Message, msg) || got[i].Line == 0 {
					t.Errorf("warning %v, want %s with a line", got[i], w)
				}
			}
		})
	}
}
