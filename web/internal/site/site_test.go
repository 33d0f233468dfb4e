package site

import (
	"bytes"
	"compress/gzip"
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/internal/browsertest"
)

var (
	testModule  = append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("module body "), 500)...)
	testRuntime = []byte(strings.Repeat("// the Go runtime glue\n", 100))
)

// built is a dist as make build leaves it.
func built() fstest.MapFS {
	dist := fstest.MapFS{
		moduleFile:  {Data: testModule},
		runtimeFile: {Data: testRuntime},
		"README.md": {Data: []byte("# make build fills this folder\n")},
	}
	for _, e := range Encodings() {
		dist[moduleFile+e.Suffix] = &fstest.MapFile{Data: e.Compress(testModule)}
	}
	return dist
}

// builtSite is New(built(), nil), made once: compressing at startup is slow under -race.
var builtSite = sync.OnceValue(func() *Site { return New(built(), nil) })

func get(t *testing.T, s *Site, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// decode undoes the reply's Content-Encoding.
func decode(t *testing.T, w *httptest.ResponseRecorder) []byte {
	t.Helper()
	var r io.Reader = w.Body
	switch enc := w.Header().Get("Content-Encoding"); enc {
	case "zstd":
		zr, err := zstd.NewReader(r)
		require.NoError(t, err)
		defer zr.Close()
		r = zr
	case "br":
		r = brotli.NewReader(r)
	case "gzip":
		zr, err := gzip.NewReader(r)
		require.NoError(t, err)
		r = zr
	case "":
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}

func TestAssets(t *testing.T) {
	s := builtSite()
	require.NoError(t, s.Missing())
	apiJS := versionedLoader(loader, map[string]string{moduleFile: Version(testModule), runtimeFile: Version(testRuntime)})
	tests := []struct {
		path, contentType string
		body              []byte
	}{
		{"/api/api.js", "text/javascript; charset=utf-8", apiJS},
		{"/api/wrapper.whtm", "text/javascript; charset=utf-8", apiJS},
		{"/api/wrapper_kphone.whtm", "text/javascript; charset=utf-8", apiJS},
		{"/api/wasm_exec.js", "text/javascript; charset=utf-8", testRuntime},
		{"/api/pbxauth.wasm", "application/wasm", testModule},
		{"/", "text/html; charset=utf-8", demoPage},
		{"/demo.js", "text/javascript; charset=utf-8", demoScript},
		{"/demo.css", "text/css; charset=utf-8", demoStyle},
		{"/api/api.d.ts", "text/plain; charset=utf-8", typeDefs},
		{"/api/login.html", "text/html; charset=utf-8", loginPage},
		{"/api/login.js", "text/javascript; charset=utf-8", loginScript},
		{"/api/login.css", "text/css; charset=utf-8", loginStyle},
	}
	for _, tt := range tests {
		for _, enc := range []string{"", "gzip", "br", "zstd"} {
			t.Run(tt.path+" "+enc, func(t *testing.T) {
				w := get(t, s, http.MethodGet, tt.path, "Accept-Encoding", enc)
				require.Equal(t, http.StatusOK, w.Code)
				h := w.Header()
				assert.Equal(t, tt.contentType, h.Get("Content-Type"))
				assert.Equal(t, enc, h.Get("Content-Encoding"))
				assert.Equal(t, []string{"Accept-Encoding"}, h.Values("Vary"))
				assert.Equal(t, "no-cache", h.Get("Cache-Control"))
				assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
				assert.Regexp(t, `^"[0-9a-f]{32}"$`, h.Get("ETag"), "strong")
				assert.Empty(t, h.Get("Accept-Ranges"), "no ranges, least of all over encoded bodies")
				assert.Equal(t, strconv.Itoa(w.Body.Len()), h.Get("Content-Length"))
				assert.Equal(t, tt.body, decode(t, w))
			})
		}
	}
}

// TestVersionedURLs: the loader names the module and the glue by versioned
// URLs, which are cached for good; every other URL of them, and the loader,
// is revalidated.
func TestVersionedURLs(t *testing.T) {
	s := builtSite()
	versions := map[string]string{moduleFile: Version(testModule), runtimeFile: Version(testRuntime)}
	assert.Regexp(t, `^[A-Za-z0-9_-]{16}$`, versions[moduleFile])
	assert.NotEqual(t, versions[moduleFile], versions[runtimeFile])

	apiJS := get(t, s, http.MethodGet, "/api/api.js").Body.String()
	assert.Contains(t, apiJS, "var MODULE = 'pbxauth.wasm?v="+versions[moduleFile]+"', RUNTIME = 'wasm_exec.js?v="+versions[runtimeFile]+"';")
	assert.Equal(t, 1, strings.Count(apiJS, "?v="+versions[moduleFile]), "one place names the module")

	for _, name := range []string{moduleFile, runtimeFile} {
		v := versions[name]
		tests := []struct {
			query, cacheControl string
		}{
			{"?v=" + v, "public, max-age=31536000, immutable"},
			{"?v=" + v + "&other=1", "public, max-age=31536000, immutable"},
			{"", "no-cache"},
			{"?v=", "no-cache"},
			{"?v=" + Version([]byte("an older build")), "no-cache"},
			{"?v=" + strings.ToLower(v) + "x", "no-cache"},
			{"?version=" + v, "no-cache"},
		}
		for _, tt := range tests {
			for _, enc := range []string{"", "br"} {
				t.Run(name+tt.query+" "+enc, func(t *testing.T) {
					w := get(t, s, http.MethodGet, "/api/"+name+tt.query, "Accept-Encoding", enc)
					require.Equal(t, http.StatusOK, w.Code)
					h := w.Header()
					assert.Equal(t, tt.cacheControl, h.Get("Cache-Control"))
					assert.Equal(t, []string{"Accept-Encoding"}, h.Values("Vary"))
					assert.NotEmpty(t, h.Get("ETag"))

					etag := h.Get("ETag")
					w = get(t, s, http.MethodGet, "/api/"+name+tt.query, "Accept-Encoding", enc, "If-None-Match", etag)
					assert.Equal(t, http.StatusNotModified, w.Code)
					assert.Equal(t, tt.cacheControl, w.Header().Get("Cache-Control"), "a 304 carries the same caching")
				})
			}
		}
	}

	for _, path := range []string{"/api/api.js", "/api/api.js?v=" + versions[moduleFile], "/api/wrapper.whtm", "/", "/api/login.html"} {
		assert.Equal(t, "no-cache", get(t, s, http.MethodGet, path).Header().Get("Cache-Control"), path)
	}

	t.Run("another build", func(t *testing.T) {
		dist := built()
		dist[moduleFile] = &fstest.MapFile{Data: append(append([]byte(nil), testModule...), "rebuilt"...)}
		delete(dist, moduleFile+".br")
		delete(dist, moduleFile+".gz")
		other := New(dist, nil)
		newV := Version(dist[moduleFile].Data)
		assert.NotEqual(t, versions[moduleFile], newV)
		assert.Contains(t, get(t, other, http.MethodGet, "/api/api.js").Body.String(), "pbxauth.wasm?v="+newV+"'")
		assert.Equal(t, "no-cache", get(t, other, http.MethodGet, "/api/pbxauth.wasm?v="+versions[moduleFile]).Header().Get("Cache-Control"),
			"the old version's URL is not promised for good by a server that has other bytes")
		assert.Equal(t, "public, max-age=31536000, immutable", get(t, other, http.MethodGet, "/api/pbxauth.wasm?v="+newV).Header().Get("Cache-Control"))
		assert.Equal(t, "no-cache", get(t, other, http.MethodGet, "/api/api.js").Header().Get("Cache-Control"))
	})

	t.Run("not built", func(t *testing.T) {
		only := built()
		delete(only, moduleFile)
		apiJS := get(t, New(only, nil), http.MethodGet, "/api/api.js").Body.String()
		assert.Contains(t, apiJS, "var MODULE = 'pbxauth.wasm', RUNTIME = 'wasm_exec.js?v="+versions[runtimeFile]+"';",
			"a file that is not built keeps its plain name")
	})
}

func TestLoaderNamesItsFilesOnce(t *testing.T) {
	assert.Equal(t, 1, bytes.Count(loader, []byte(loaderFiles)))
	assert.Equal(t, 1, bytes.Count(classicPart, []byte(loaderFiles)), "the line is api.js's")
	assert.Panics(t, func() { versionedLoader([]byte("(function () {})();"), nil) })
	for _, name := range []string{moduleFile, runtimeFile} {
		assert.Equal(t, 1, bytes.Count(loader, []byte("'"+name+"'")),
			"api.js names %s only in the line the server versions, so that no request escapes the versioned URL", name)
	}
}

func TestNegotiation(t *testing.T) {
	s := builtSite()
	tests := []struct{ acceptEncoding, want string }{
		{"", ""},
		{"gzip, deflate, br, zstd", "zstd"}, // Chromium's
		{"gzip, deflate, br", "br"},
		{"gzip", "gzip"},
		{"br", "br"},
		{"zstd", "zstd"},
		{"BR;Q=1", "br"},
		{"ZSTD;q=1", "zstd"},
		{"x-gzip", "gzip"},
		{"deflate", ""},
		{"*", "zstd"},
		{"zstd;q=0, *", "br"},
		{"br;q=0, gzip", "gzip"},
		{"br;q=0, zstd;q=0, *", "gzip"},
		{"zstd;q=0.9, br", "br"},
		{"gzip;q=0", ""},
		{"br;q=0, gzip;q=0", ""},
		{"*;q=0", ""},                        // identity refused too, but a body beats a 406
		{"identity;q=0, gzip;q=0.1", "gzip"}, // anything but identity
		{"br;q=0.5, gzip;q=0.8", "gzip"},     // the client's order wins
		{"br;q=0.8, gzip;q=0.8", "br"},       // ties go to the server's order
		{"gzip, zstd;q=1.0, br", "zstd"},
		{"br;q=0.5, identity;q=1", ""},
		{"gzip ; q=0.9 , br ; q=0.2", "gzip"},
		{"br;q=nonsense, gzip", "gzip"},
		{"br;q=2, gzip", "gzip"}, // out of range counts as 0
	}
	for _, path := range []string{"/api/pbxauth.wasm", "/api/api.js"} { // precompressed and compressed at startup
		for _, tt := range tests {
			t.Run(path+" "+tt.acceptEncoding, func(t *testing.T) {
				w := get(t, s, http.MethodGet, path, "Accept-Encoding", tt.acceptEncoding)
				assert.Equal(t, tt.want, w.Header().Get("Content-Encoding"))
			})
		}
	}

	t.Run("missing header", func(t *testing.T) {
		w := get(t, s, http.MethodGet, "/api/pbxauth.wasm")
		assert.Empty(t, w.Header().Get("Content-Encoding"))
		assert.Equal(t, testModule, w.Body.Bytes())
	})
	t.Run("header on two lines", func(t *testing.T) {
		w := get(t, s, http.MethodGet, "/api/pbxauth.wasm", "Accept-Encoding", "br;q=0", "Accept-Encoding", "gzip")
		assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"))
	})
}

func TestPrecompressedCopies(t *testing.T) {
	dist := built()
	delete(dist, moduleFile+".br")
	s := New(dist, nil)
	w := get(t, s, http.MethodGet, "/api/pbxauth.wasm", "Accept-Encoding", "br, gzip")
	assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"), "a missing copy is not offered")
	assert.Equal(t, testModule, decode(t, w))

	delete(dist, moduleFile+".zst")
	w = get(t, New(dist, nil), http.MethodGet, "/api/pbxauth.wasm", "Accept-Encoding", "gzip, deflate, br, zstd")
	assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"), "without the zstd and br copies, Chromium gets gzip")

	dist[moduleFile+".gz"] = &fstest.MapFile{Data: append(testModule, 0)}
	w = get(t, New(dist, nil), http.MethodGet, "/api/pbxauth.wasm", "Accept-Encoding", "gzip")
	assert.Empty(t, w.Header().Get("Content-Encoding"), "a copy no smaller than the original is not offered")
}

func TestETag(t *testing.T) {
	s := builtSite()
	etags := map[string]string{}
	for _, enc := range []string{"", "gzip", "br", "zstd"} {
		etags[enc] = get(t, s, http.MethodGet, "/api/pbxauth.wasm", "Accept-Encoding", enc).Header().Get("ETag")
	}
	assert.Len(t, map[string]bool{etags[""]: true, etags["gzip"]: true, etags["br"]: true, etags["zstd"]: true}, 4, "one per representation")
	assert.NotEqual(t, etags[""], get(t, s, http.MethodGet, "/api/api.js").Header().Get("ETag"))

	tests := []struct {
		name, ifNoneMatch string
		status            int
	}{
		{"same", etags["br"], http.StatusNotModified},
		{"in a list", `"other", ` + etags["br"], http.StatusNotModified},
		{"weak", "W/" + etags["br"], http.StatusNotModified},
		{"any", "*", http.StatusNotModified},
		{"another representation's", etags["gzip"], http.StatusOK},
		{"stale", `"0123"`, http.StatusOK},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			t.Run(tt.name+" "+method, func(t *testing.T) {
				w := get(t, s, method, "/api/pbxauth.wasm", "Accept-Encoding", "br", "If-None-Match", tt.ifNoneMatch)
				assert.Equal(t, tt.status, w.Code)
				assert.Equal(t, etags["br"], w.Header().Get("ETag"))
				assert.Equal(t, []string{"Accept-Encoding"}, w.Header().Values("Vary"))
				if tt.status == http.StatusNotModified {
					assert.Empty(t, w.Body.Bytes())
					assert.Empty(t, w.Header().Get("Content-Length"))
					assert.Empty(t, w.Header().Get("Content-Encoding"))
				}
			})
		}
	}
}

func TestHead(t *testing.T) {
	s := builtSite()
	for _, enc := range []string{"", "br"} {
		getW := get(t, s, http.MethodGet, "/api/pbxauth.wasm", "Accept-Encoding", enc)
		headW := get(t, s, http.MethodHead, "/api/pbxauth.wasm", "Accept-Encoding", enc)
		assert.Equal(t, http.StatusOK, headW.Code)
		assert.Empty(t, headW.Body.Bytes())
		assert.Equal(t, getW.Header(), headW.Header(), "the headers a GET would get")
	}
}

func TestNotBuilt(t *testing.T) {
	dist := fstest.MapFS{"README.md": {Data: []byte("# make build fills this folder\n")}}
	s := New(dist, nil)
	err := s.Missing()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pbxauth.wasm")
	assert.Contains(t, err.Error(), "wasm_exec.js")
	assert.Contains(t, err.Error(), "make build")

	for _, path := range []string{"/api/pbxauth.wasm", "/api/wasm_exec.js"} {
		w := get(t, s, http.MethodGet, path, "Accept-Encoding", "br")
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		assert.Contains(t, w.Body.String(), "run `make build`")
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		assert.Empty(t, w.Header().Get("ETag"))
	}
	assert.Equal(t, http.StatusOK, get(t, s, http.MethodGet, "/api/api.js").Code, "the loader and the page do not need a build")
	assert.Equal(t, http.StatusOK, get(t, s, http.MethodGet, "/").Code)

	only := built()
	delete(only, runtimeFile)
	err = New(only, nil).Missing()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pbxauth.wasm")
}

func TestRoutes(t *testing.T) {
	s := builtSite()
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodGet, "/api/", http.StatusNotFound},
		{http.MethodGet, "/api/README.md", http.StatusNotFound},
		{http.MethodGet, "/api/pbxauth.wasm.br", http.StatusNotFound},
		{http.MethodGet, "/dist/pbxauth.wasm", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/api.js", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			assert.Equal(t, tt.status, get(t, s, tt.method, tt.path).Code)
		})
	}
}

// TestDemoPage: the demo page is plain HTML with its script and style in
// files of their own, under a strict Content-Security-Policy, and the code
// each card shows is code that demo.js runs.
func TestDemoPage(t *testing.T) {
	w := get(t, builtSite(), http.MethodGet, "/")
	page := w.Body.String()
	assert.Equal(t, DemoCSP, w.Header().Get("Content-Security-Policy"))
	assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
	assert.Contains(t, DemoCSP, "script-src 'self' 'wasm-unsafe-eval';", "the module needs wasm-unsafe-eval, nothing inline")
	assert.Contains(t, page, "IPCortex PBX (local)")
	assert.Contains(t, page, `<script src="/api/api.js"></script>`)
	assert.Contains(t, page, `<script src="`+DemoScriptPath+`"></script>`)
	assert.Contains(t, page, `<link rel="stylesheet" href="`+DemoStylePath+`">`)
	assert.NotRegexp(t, `<script(\s[^>]*)?>[^<]`, page, "no inline script: the CSP refuses it")
	assert.NotRegexp(t, `<style|\sstyle=|\son[a-z]+=`, page, "no inline style or handler: the CSP refuses them")
	for _, id := range []string{"username", "password", "remember", "login", "overlay", "logout", "check", "reload",
		"subid-button", "subid", "status", "feed-start", "feed-stop", "feed-state", "feed-events", "second-tab",
		"system-ipcortex", "system-vodia", "system-ping", "vodia-login", "ping-login", "ping-jwt-login", "debug-log", "debug-clear"} {
		assert.Regexp(t, `\sid="`+regexp.QuoteMeta(id)+`"`, page)
	}
	assert.Regexp(t, `<ol id="feed-events"[^>]*\saria-live="polite"`, page, "the feed's events are a live region")
	assert.Regexp(t, `<a id="second-tab" href="/" target="_blank">`, page)
	// Every control is labelled: each input and textarea by a <label for>.
	for _, m := range regexp.MustCompile(`<(?:input|textarea)[^>]*\sid="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[0], `type="radio"`) {
			assert.Contains(t, page, `<label for="`+m[1]+`">`, "the field #%s has no label", m[1])
		}
	}
	for _, user := range []string{"alice / wonderland", "bob / builder", "carol / carolpass"} {
		assert.Contains(t, page, user)
	}
	assert.NotRegexp(t, `(src|href)="(https?:)?//`, page, "self-contained")

	// The code the cards show is demo.js's, line by line.
	script := string(demoScript)
	snippets := regexp.MustCompile(`(?s)<pre class="code"><code>(.*?)</code></pre>`).FindAllStringSubmatch(page, -1)
	assert.GreaterOrEqual(t, len(snippets), 7, "a snippet per card")
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	for _, sn := range snippets {
		for _, l := range strings.Split(html.UnescapeString(sn[1]), "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			found := false
			for _, have := range lines {
				if strings.Contains(have, l) {
					found = true
					break
				}
			}
			assert.True(t, found, "the page shows %q, which demo.js does not run", l)
		}
	}
	assert.NotContains(t, script, "innerHTML", "data goes in with textContent")
	for _, call := range []string{"Auth.login({checkonly: true})", "Auth.logout()", "Auth.getSubID()", "Auth.getUserInfo()",
		"IPCortex.PBX.startFeed(", "IPCortex.PBX.stopFeed()", "Auth.debug = function", "addEventListener('pbxauthchange'",
		"{backend: 'vodia'}", "{backend: 'ping'}"} {
		assert.Contains(t, script, call)
	}

	css := get(t, builtSite(), http.MethodGet, DemoStylePath)
	assert.Equal(t, http.StatusOK, css.Code)
	assert.Contains(t, css.Body.String(), ":focus-visible", "focus is visible")
}

// TestHandler checks the embedded dist, whether or not make build ran: when
// it did, every encoding of the module and the glue decodes to the same bytes
// (a copy left stale by a build without ./web/internal/cmd/precompress would reach
// browsers), and the loader names their current versions.
func TestHandler(t *testing.T) {
	s := Handler(nil)
	assert.Equal(t, http.StatusOK, get(t, s, http.MethodGet, "/api/api.js").Code)
	status := get(t, s, http.MethodGet, "/api/pbxauth.wasm").Code
	if s.Missing() != nil {
		assert.Equal(t, http.StatusServiceUnavailable, status)
		return
	}
	assert.Equal(t, http.StatusOK, status)
	apiJS := get(t, s, http.MethodGet, "/api/api.js").Body.String()
	for _, name := range []string{moduleFile, runtimeFile} {
		raw := get(t, s, http.MethodGet, "/api/"+name, "Accept-Encoding", "identity")
		require.Empty(t, raw.Header().Get("Content-Encoding"))
		assert.Contains(t, apiJS, "'"+name+"?v="+Version(raw.Body.Bytes())+"'")
		for _, e := range Encodings() {
			w := get(t, s, http.MethodGet, "/api/"+name, "Accept-Encoding", e.Name)
			assert.Equal(t, e.Name, w.Header().Get("Content-Encoding"), "%s: make build writes every encoding", name)
			assert.True(t, bytes.Equal(raw.Body.Bytes(), decode(t, w)), "%s in %s differs from the file: run make build", name, e.Name)
		}
	}
}

// trusted is a -origins list as pbx.ParseOrigins returns it.
var trusted = []string{"https://app.example", "http://localhost:*", "https://localhost:*", "http://[::1]:*"}

func TestLoginCSP(t *testing.T) {
	assert.Equal(t, "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "+
		"form-action 'none'; base-uri 'none'; frame-ancestors 'self' https://app.example http://localhost:* https://localhost:*",
		LoginCSP(trusted), "IPv6 entries are left out: CSP has no syntax for them")
	assert.True(t, strings.HasSuffix(LoginCSP(nil), "frame-ancestors 'self'"), "without trusted origins only the server's own pages")
	assert.True(t, strings.HasSuffix(LoginCSP([]string{"https://a.example;script-src *", "https://b.example"}), "frame-ancestors 'self' https://b.example"),
		"an entry that would break out of the directive is left out")
}

// TestLoginPageHeaders: the overlay page may be framed only by the server's
// own pages and the trusted origins, and keeps its CSP on every reply.
func TestLoginPageHeaders(t *testing.T) {
	s := New(built(), trusted)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, enc := range []string{"", "br"} {
			t.Run(method+" "+enc, func(t *testing.T) {
				w := get(t, s, method, LoginPagePath, "Accept-Encoding", enc)
				require.Equal(t, http.StatusOK, w.Code)
				h := w.Header()
				assert.Equal(t, LoginCSP(trusted), h.Get("Content-Security-Policy"))
				assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'self' https://app.example http://localhost:*")
				assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
				assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
				assert.Equal(t, "no-cache", h.Get("Cache-Control"))
				assert.Empty(t, h.Get("Access-Control-Allow-Origin"), "the site adds none; the server adds * to public files")

				etag := h.Get("ETag")
				w = get(t, s, method, LoginPagePath, "Accept-Encoding", enc, "If-None-Match", etag)
				assert.Equal(t, http.StatusNotModified, w.Code)
				assert.Equal(t, LoginCSP(trusted), w.Header().Get("Content-Security-Policy"), "a revalidated page keeps its policy")
			})
		}
	}
	for _, path := range []string{LoginScriptPath, LoginStylePath} {
		w := get(t, s, http.MethodGet, path)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	}
}

// TestLoginPage checks the overlay page's markup: what users and assistive
// technology need, what the module and the e2e tests find it by, and nothing
// its CSP would block.
func TestLoginPage(t *testing.T) {
	page := string(loginPage)
	assert.Contains(t, page, "<h1")
	assert.Contains(t, page, "Log in to the phone system</h1>")
	for _, want := range []string{
		`<label for="username">`, `<label for="password">`,
		`id="username"`, `id="password"`,
		`autocomplete="username"`, `autocomplete="current-password"`, `type="password"`,
		`autofocus`, `aria-label="Close"`, `type="submit"`, `role="alert"`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<html lang="en">`,
		`<link rel="stylesheet" href="login.css">`, `<script src="login.js" defer></script>`,
	} {
		assert.Contains(t, page, want)
	}
	assert.Equal(t, 1, strings.Count(page, "<script"), "no inline script: script-src 'self'")
	assert.NotContains(t, page, "<style", "no inline style: style-src 'self'")
	assert.NotRegexp(t, `\sstyle=`, page)
	assert.NotRegexp(t, `\son[a-z]+=`, page, "no inline event handlers")
	assert.NotRegexp(t, `(src|href|action)="(https?:)?//`, page, "self-contained")
	assert.NotContains(t, page, "action=", "the script submits; form-action is 'none'")
	assert.NotRegexp(t, `url\(|@import|https?:`, string(loginStyle), "no external resources")
	assert.Contains(t, string(loginStyle), ":focus-visible", "keyboard focus is visible")
}

// TestLoginScript checks the overlay script for what must never change:
// messages only to the parent's exact origin, the password never logged, the
// deadline, and no cookies.
func TestLoginScript(t *testing.T) {
	js := string(loginScript)
	assert.NotContains(t, js, "console.", "nothing is logged, least of all the password")
	assert.NotRegexp(t, `postMessage\([^)]*'\*'`, js, "never to any origin")
	assert.Contains(t, js, "window.parent.postMessage(msg, parentOrigin)")
	assert.Contains(t, js, "ev.source !== window.parent || ev.origin !== parentOrigin")
	assert.Contains(t, js, "credentials: 'omit'")
	assert.Contains(t, js, "DEADLINE_MS = 20000")
	assert.Contains(t, js, "MAX_FAILURES = 3")
	assert.NotContains(t, js, "innerHTML", "text goes in with textContent")
	for _, m := range regexp.MustCompile(`post\(\{[^}]*\}`).FindAllString(js, -1) {
		assert.NotRegexp(t, `\b(pass|p|body|init)\b`, m, "a message to the parent carries nothing of the password: %s", m)
	}
}

// TestLoginScriptBehaviour runs login.js in Node against a fake DOM
// (testdata/login_test.js): the overlay protocol, the request it sends, wrong
// passwords, errors, the deadline and closing. The browser tests (web/internal/e2e)
// run it for real; this catches a broken script without a browser. Timers in
// it are fake; the deadline here only stops a hung Node.
func TestLoginScriptBehaviour(t *testing.T) {
	node := browsertest.Need(t, browsertest.Node)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "testdata/login_test.js", "login.js").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "ok\n", string(out))
}

// TestClassicScript: the served script is api.js and loader.js in one
// function, each once and unchanged, and ClassicScript returns it.
func TestClassicScript(t *testing.T) {
	js := string(ClassicScript())
	assert.Equal(t, string(loader), js)
	assert.True(t, strings.HasPrefix(js, "(function () {\n"+string(classicPart)), "api.js first")
	assert.True(t, strings.HasSuffix(js, string(loaderPart)+"})();\n"), "then loader.js, which declares load")
	assert.Equal(t, 1, strings.Count(js, "\nfunction load(env) {\n"), "loader.js declares load once")
	assert.Equal(t, "(function () {\na\nb\n})();\n", string(classicScript([]byte("a"), []byte("b\n"))))
	ClassicScript()[0] = 'x'
	assert.Equal(t, byte('('), ClassicScript()[0], "a copy")
}

// classicGlobals runs the classic script in Node's vm, in a context with
// just enough of a page for the loader to start (its fetch never answers),
// and prints the globals the script added, what load is there, and what
// the script defined.
const classicGlobals = `
const vm = require('vm');
const src = require('fs').readFileSync(0, 'utf8');
const never = () => new Promise(() => {});
const ctx = vm.createContext({
  console, URL, crypto: globalThis.crypto, location: { href: 'https://pbx.example/' },
  document: { currentScript: { src: 'https://pbx.example/api/api.js' }, createElement() { return {}; }, head: { appendChild() {} } },
  fetch: never, WebAssembly: { compileStreaming: never },
});
const before = new Set(Object.getOwnPropertyNames(ctx));
vm.runInContext(src, ctx, { filename: 'api.js' });
console.log(JSON.stringify({
  added: Object.getOwnPropertyNames(ctx).filter((k) => !before.has(k)),
  load: vm.runInContext('typeof load', ctx),
  login: typeof ctx.IPCortex.PBX.Auth.login,
  startFeed: typeof ctx.IPCortex.PBX.startFeed,
}));
`

// TestClassicScriptGlobals: the script tag adds IPCortex and nothing else to
// the page's globals; loader.js's load stays inside the script's function.
func TestClassicScriptGlobals(t *testing.T) {
	node := browsertest.Need(t, browsertest.Node)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "-e", classicGlobals)
	cmd.Stdin = bytes.NewReader(ClassicScript())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.JSONEq(t, `{"added": ["IPCortex"], "load": "undefined", "login": "function", "startFeed": "function"}`, string(out))
}
