// Package archtest holds no code: its tests check the package tree against
// the import rules in docs/architecture.md (which floor may import which),
// and that the regiongate binary links no test-only code.
package archtest
