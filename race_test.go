//go:build race

package main

// raceEnabled: the tests run under the race detector, so the binary they
// build for the CLI tests is built with it too.
const raceEnabled = true
