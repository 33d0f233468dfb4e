package browsertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	assert.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
	assert.Equal(t, exe, Tool{Name: "x", Paths: []string{filepath.Join(dir, "absent"), exe}}.Find())
	assert.Equal(t, "", Tool{Name: "x", Paths: []string{dir}, Cmds: []string{"pbxauth-no-such-command"}}.Find(), "a folder is no tool")
	t.Setenv("PATH", dir)
	assert.Equal(t, exe, Tool{Name: "x", Cmds: []string{"tool"}}.Find(), "found on PATH")

	t.Setenv(MissingEnv, "other, X")
	assert.Equal(t, "", Tool{Name: "x", Paths: []string{exe}}.Find(), MissingEnv+" hides a tool by name, in any case")
	assert.Equal(t, exe, Tool{Name: "y", Paths: []string{exe}}.Find(), "and no other")
}

func TestRoot(t *testing.T) {
	root := Root()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	assert.NoError(t, err)
	assert.True(t, isThisModule(b), "the repository's go.mod, from internal/browsertest")
	assert.Equal(t, []string{filepath.Join(root, ".tools", "bin", "x")}, inRepo(".tools/bin/x"))
	assert.False(t, isThisModule([]byte("module github.com/pbxauth/pbxauth/other\n")))
	assert.True(t, isThisModule([]byte("// comment\nmodule github.com/pbxauth/pbxauth\n\ngo 1.26\n")))
}

func TestUnavailable(t *testing.T) {
	missing := Tool{Name: "Gizmo", Cmds: []string{"pbxauth-no-such-command"}, Get: "apt-get install gizmo"}
	if testing.Short() {
		assert.Equal(t, ShortReason, Unavailable(missing))
		return
	}
	assert.Equal(t, "Gizmo is not installed: apt-get install gizmo", Unavailable(missing))
	assert.Equal(t, "", Unavailable())
}

// recorder is a testing.TB that records how a test ended instead of ending.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()             {}
func (r *recorder) Skip(args ...any)    { r.skipped = args[0].(string) }
func (r *recorder) Fatal(args ...any)   { r.failed = args[0].(string) }
func (r *recorder) Setenv(k, v string)  {}
func (r *recorder) Cleanup(func())      {}
func (r *recorder) Name() string        { return "recorder" }
func (r *recorder) Logf(string, ...any) {}

func TestSkipFailsUnderCI(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{}
	Skip(r, "Gizmo is not installed")
	assert.Equal(t, "Gizmo is not installed", r.skipped)
	assert.Empty(t, r.failed)

	t.Setenv("CI", "true")
	r = &recorder{}
	Skip(r, "Gizmo is not installed")
	assert.Empty(t, r.skipped)
	assert.True(t, strings.HasPrefix(r.failed, "Gizmo is not installed"), r.failed)

	r = &recorder{}
	Skip(r, ShortReason)
	assert.Equal(t, ShortReason, r.skipped, "-short skips even under CI")

	r = &recorder{}
	Skip(r, "")
	assert.Empty(t, r.skipped+r.failed)
}
