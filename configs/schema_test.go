package configs

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asJSON turns YAML into the plain JSON values the schema validator wants.
func asJSON(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaAgreesWithTheDecoder keeps the editor's schema and the strict
// decoder in step: the dev config passes both, and edits the decoder
// refuses are refused by the schema too.
func TestSchemaAgreesWithTheDecoder(t *testing.T) {
	s := compileSchema(t)
	dev := string(DefaultYAML())
	if err := s.Validate(asJSON(t, dev)); err != nil {
		t.Fatalf("dev.yaml fails the schema: %v", err)
	}
	if !strings.HasSuffix(dev, "clientAuth:\n  mode: optional\n") {
		t.Fatal("dev.yaml no longer ends with its clientAuth section, which the cases below extend")
	}
	withOIDC := dev + "  oidc: {issuer: https://idp.example/, audiences: [rg], algorithms: [ES256], tenantClaim: ext.tenant, leeway: 30s}\n"
	if err := s.Validate(asJSON(t, withOIDC)); err != nil {
		t.Fatalf("an oidc section fails the schema: %v", err)
	}
	if _, err := Parse([]byte(withOIDC)); err != nil {
		t.Fatalf("an oidc section fails the decoder: %v", err)
	}
	secured := strings.Replace(dev, "namespace: dev-us-east", "namespace: dev-us-east\n"+
		"    tls: {caFile: /ca.pem, certFile: /c.pem, keyFile: /k.pem, serverName: t.internal}\n    apiKey: {file: /run/key}", 1)
	if err := s.Validate(asJSON(t, secured)); err != nil {
		t.Fatalf("a region with tls and apiKey fails the schema: %v", err)
	}
	if _, err := Parse([]byte(secured)); err != nil {
		t.Fatalf("a region with tls and apiKey fails the decoder: %v", err)
	}
	bad := []struct{ name, text string }{
		{"unknown top-level field", dev + "\ncolour: red\n"},
		{"unknown region field", strings.Replace(dev, "namespace: dev-us-east", "namespace: dev-us-east\n    colour: red", 1)},
		{"bad duration", strings.Replace(dev, "namespace: dev-us-east", "namespace: dev-us-east\n    callTimeout: fast", 1)},
		{"bad region name", strings.Replace(dev, "name: us-east", "name: US East", 1)},
		{"unknown location source", dev + "\nlocation:\n  precedence: [crystal-ball]\n"},
		{"unknown client auth mode", strings.Replace(dev, "mode: optional", "mode: sometimes", 1)},
		{"alg none", dev + "  oidc: {issuer: https://idp.example/, audiences: [rg], algorithms: [none]}\n"},
		{"HMAC algorithm", dev + "  oidc: {issuer: https://idp.example/, audiences: [rg], algorithms: [HS256]}\n"},
		{"oidc without audiences", dev + "  oidc: {issuer: https://idp.example/}\n"},
		{"plain http issuer", dev + "  oidc: {issuer: http://idp.example/, audiences: [rg]}\n"},
		{"tenant with a capital", strings.Replace(dev, "{name: northwind,", "{name: Northwind,", 1)},
		{"inline API key", strings.Replace(dev, "namespace: dev-us-east", "namespace: dev-us-east\n    apiKey: secret", 1)},
		{"API key from two places", strings.Replace(dev, "namespace: dev-us-east", "namespace: dev-us-east\n    apiKey: {file: /k, env: K}", 1)},
		{"certificate without its key", strings.Replace(dev, "namespace: dev-us-east", "namespace: dev-us-east\n    tls: {certFile: /c.pem}", 1)},
		{"unknown tls field", strings.Replace(dev, "namespace: dev-us-east", "namespace: dev-us-east\n    tls: {insecureSkipVerify: true}", 1)},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			if err := s.Validate(asJSON(t, b.text)); err == nil {
				t.Error("the schema accepts it")
			}
			if _, err := Parse([]byte(b.text)); err == nil {
				t.Error("the decoder accepts it")
			}
		})
	}
}
