package configs

import (
	_ "embed"
	"fmt"
	"os"
)

//go:embed dev.yaml
var devYAML []byte

// Default returns the embedded dev config.
func Default() *Config {
	c, err := Parse(devYAML)
	if err != nil {
		panic("embedded dev.yaml is invalid: " + err.Error())
	}
	return c
}

// DefaultYAML returns the embedded dev config's text.
func DefaultYAML() []byte { return append([]byte(nil), devYAML...) }

// LoadFile reads and validates a config file.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
