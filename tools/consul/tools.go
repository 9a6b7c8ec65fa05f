//go:build tools

// Package tools pins the Consul agent used by the dev stack and the tests.
// It is a separate module so Consul's old dependencies never mix with the
// product's go.mod.
package tools

import _ "github.com/hashicorp/consul"
