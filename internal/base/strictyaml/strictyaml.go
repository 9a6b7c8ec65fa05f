// Package strictyaml decodes one YAML (or JSON) document strictly: a field the target has no place for is an error.
package strictyaml

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"
)

// Refusals besides the decoder's own errors.
var (
	ErrEmpty             = errors.New("empty")
	ErrMultipleDocuments = errors.New("more than one YAML document")
)

// Decode decodes data into v. Unknown fields, an empty input (ErrEmpty)
// and a second document (ErrMultipleDocuments) are errors: a config that
// says more than its reader understands must not be half-read.
func Decode(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return ErrMultipleDocuments
	}
	return nil
}
