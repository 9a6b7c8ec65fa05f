// Package openapi holds the OpenAPI 3.1 documents of the client and admin APIs, embedded in the binary.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

// The documents are written by hand in YAML; the listeners serve them as
// JSON at /openapi.json. Tests hold them to the routes gin registers and
// to every response the end-to-end tests get.
//
//go:embed client.yaml admin.yaml
var files embed.FS

var (
	clientJSON = sync.OnceValue(func() []byte { return mustJSON("client.yaml") })
	adminJSON  = sync.OnceValue(func() []byte { return mustJSON("admin.yaml") })
)

// Client returns the client API's document as JSON.
func Client() []byte { return clientJSON() }

// Admin returns the admin API's document as JSON.
func Admin() []byte { return adminJSON() }

func read(name string) []byte {
	data, err := files.ReadFile(name)
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return data
}

// mustJSON converts an embedded document; a document that does not
// convert fails every test, so it never ships.
func mustJSON(name string) []byte {
	data, err := ToJSON(read(name))
	if err != nil {
		panic(fmt.Sprintf("openapi/%s: %v", name, err))
	}
	return data
}

// ToJSON converts a YAML document to JSON.
func ToJSON(data []byte) ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	doc, err := jsonable(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// jsonable turns what yaml.v3 decodes into what encoding/json encodes:
// mappings with non-string keys (status codes such as 200) get string keys.
func jsonable(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			v[k] = c
		}
		return v, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = c
		}
		return out, nil
	case []any:
		for i, e := range v {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			v[i] = c
		}
		return v, nil
	}
	return v, nil
}
