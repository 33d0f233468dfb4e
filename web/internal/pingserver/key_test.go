package pingserver

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadKeyCreates(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sub", "ping.key")
	key, err := LoadKey(file)
	require.NoError(t, err)
	assert.Len(t, key, KeySize)
	info, err := os.Stat(file)
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		dir, err := os.Stat(filepath.Dir(file))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), dir.Mode().Perm())
	}
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(key)+"\n", string(data))

	again, err := LoadKey(file)
	require.NoError(t, err)
	assert.Equal(t, key, again, "the same key on the next start")
	entries, err := os.ReadDir(filepath.Dir(file))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left")
}

func TestLoadKeyReads(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ping.key")
	want := strings.Repeat("ab", KeySize)
	require.NoError(t, os.WriteFile(file, []byte("  "+want+"\n\n"), 0o600))
	key, err := LoadKey(file)
	require.NoError(t, err)
	assert.Equal(t, want, hex.EncodeToString(key))
}

func TestLoadKeyRefuses(t *testing.T) {
	tests := []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"empty", "", 0o600, "holds no key"},
		{"too short", strings.Repeat("ab", 16), 0o600, "holds no key"},
		{"too long", strings.Repeat("ab", 33), 0o600, "holds no key"},
		{"not hex", strings.Repeat("zz", KeySize), 0o600, "holds no key"},
		{"readable by others", strings.Repeat("ab", KeySize), 0o644, "may be read by others (mode 0644)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mode != 0o600 && runtime.GOOS == "windows" {
				t.Skip("no such modes on Windows")
			}
			file := filepath.Join(t.TempDir(), "ping.key")
			require.NoError(t, os.WriteFile(file, []byte(tt.content), tt.mode))
			require.NoError(t, os.Chmod(file, tt.mode)) // past the umask
			_, err := LoadKey(file)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			data, _ := os.ReadFile(file)
			assert.Equal(t, tt.content, string(data), "a bad file is never replaced")
		})
	}
	t.Run("a directory", func(t *testing.T) {
		_, err := LoadKey(t.TempDir())
		assert.Error(t, err)
	})
}

func TestDefaultKeyFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME is Linux's")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	file, err := DefaultKeyFile()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "pbxauth", "ping.key"), file)
}
