//go:build !js

package jsbridge

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goName is a Go name in a message: a method or option, or RetryForever.
var goName = regexp.MustCompile(`\b(Client|Options)\.[A-Z]\w*|\bRetryForever\b`)

// TestEveryGoNameInCoreMessagesHasJSWords reads every string literal of the
// core's code and checks that each Go name in it is one jsWords rewrites, so
// that a page never reads a Go name where it calls a JavaScript one.
func TestEveryGoNameInCoreMessagesHasJSWords(t *testing.T) {
	known := map[string]bool{}
	for i := 0; i < len(goToJS); i += 2 {
		known[goToJS[i]] = true
	}
	seen := map[string]bool{}
	err := filepath.WalkDir("../core", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, name := range goName.FindAllString(s, -1) {
				seen[name] = true
				assert.True(t, known[name], "%s: %q names %s, which jsWords does not rewrite; add it to goToJS", path, s, name)
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, len(seen), 5, "the walk found the core's messages")
}

func TestJSWords(t *testing.T) {
	for in, want := range map[string]string{
		`no PBX host is set; call Client.SetHost("https://your-pbx") first`:            `no PBX host is set; call setHost("https://your-pbx") first`,
		"Client.SetHostFor: no backend \"x\"; this build has ipcortex":                 "setHost: no backend \"x\"; this build has ipcortex",
		"Client.SetWSHost: ws://pbx is plain ws":                                       "setWSHost: ws://pbx is plain ws",
		"Client.Login: over 16 tokens; pass the ones Options.OnTokens reported last":   "login: over 16 tokens; pass the ones tokenCB reported last",
		"Options.MaxRetry must be 0 or more seconds, or RetryForever to retry forever": "maxWSRetryTime must be 0 or more seconds, or null to retry forever",
		"the PBX refused every token; without Options.Headless":                        "the PBX refused every token; without nodom",
		"a message with no Go name":                                                    "a message with no Go name",
	} {
		assert.Equal(t, want, jsWords(in))
	}
}
