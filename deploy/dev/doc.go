// Package dev is the dev stack's scripts: up.sh (make dev), restart.sh
// (make dev-restart) and the lib.sh they share. Its only Go is the test
// that runs them.
package dev
