// Command assemble writes the npm package pbxauth into out/npm (or the folder given).
//
// It takes the package's sources from web/npm, and the rest from
// web/internal/site and the module that make build put in
// web/internal/site/dist; see package
// github.com/pbxauth/pbxauth/web/internal/npmpkg.
// `cd out/npm && npm pack` then makes the tarball.
//
//	go run ./web/internal/cmd/assemble [OUT]
//
// Run it from the repository's root.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pbxauth/pbxauth/web/internal/npmpkg"
)

func main() {
	out := filepath.Join("out", "npm")
	if len(os.Args) > 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./web/internal/cmd/assemble [OUT]")
		os.Exit(2)
	}
	if len(os.Args) == 2 {
		out = os.Args[1]
	}
	if err := npmpkg.Assemble(".", out); err != nil {
		fmt.Fprintln(os.Stderr, "assemble:", err)
		os.Exit(1)
	}
}
