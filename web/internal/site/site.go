// Package site serves the files browsers load from the local PBX server.
//
// That is everything besides the REST contract: the loader api.js (also
// under the vendor's wrapper names), the Go runtime glue wasm_exec.js, the
// module pbxauth.wasm, the login overlay page (login.html with its login.js
// and login.css, which the module frames over the page that logs in) and
// the demo page at "/" (index.html with its demo.js and demo.css).
//
// The overlay page is where users type their password, so it carries a
// strict Content-Security-Policy: nothing but its own files, no form
// targets, and frame-ancestors limited to the server's own pages and the
// trusted origins, so that no other site can frame it and trick users into
// typing into it. The demo page carries one too (DemoCSP): it shows that a
// page with no inline script or style, allowing only its own origin and
// 'wasm-unsafe-eval', runs the module, its overlay and its feed.
//
// Every asset is sent in the encoding the client accepts that the server
// prefers (Zstandard, brotli, gzip or none), with a strong ETag per encoding
// and "Cache-Control: no-cache", so a browser revalidates on each load and
// gets a 304 until the server is rebuilt. The module and the glue come from
// web/internal/site/dist, which `make build` fills (the module's Zstandard, brotli and
// gzip copies included, written by ./web/internal/cmd/precompress); the loader and
// the page are embedded from this folder and compressed once per process.
//
// The module and the glue are also served under a versioned URL: at start the
// server computes a short hash of each one's content and writes the URLs
// "pbxauth.wasm?v=HASH" and "wasm_exec.js?v=HASH" into the loader it serves.
// A request whose v is the current hash gets "Cache-Control: public,
// max-age=31536000, immutable", as that URL names these bytes for good; any
// other request (no v, or an old one) gets no-cache as above. The loader
// itself stays no-cache, so a warm page load revalidates only the loader, and
// a rebuilt server is picked up at the next load.
package site

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

var (
	//go:embed dist
	embedded embed.FS
	//go:embed api.js
	classicPart []byte
	//go:embed loader.js
	loaderPart []byte
	//go:embed index.html
	demoPage []byte
	//go:embed demo.js
	demoScript []byte
	//go:embed demo.css
	demoStyle []byte
	//go:embed api.d.ts
	typeDefs []byte
	//go:embed login.html
	loginPage []byte
	//go:embed login.js
	loginScript []byte
	//go:embed login.css
	loginStyle []byte
)

// Paths of the login overlay page and its files.
const (
	LoginPagePath   = "/api/login.html"
	LoginScriptPath = "/api/login.js"
	LoginStylePath  = "/api/login.css"
)

// Paths of the demo page's files.
const (
	DemoScriptPath = "/demo.js"
	DemoStylePath  = "/demo.css"
)

// DemoCSP is the Content-Security-Policy of the demo page: its own scripts
// and styles (no inline ones), 'wasm-unsafe-eval' for the module, its own
// origin for fetch and the feed's WebSocket (CSP's 'self' covers ws: and
// wss: of the same host), and the overlay, framed from its own origin.
const DemoCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; frame-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// The build outputs that New reads from dist.
const (
	moduleFile  = "pbxauth.wasm"
	runtimeFile = "wasm_exec.js"
)

// Cache-Control of the replies: revalidate at every use, or, for a URL
// whose version names the content, keep it for a year without asking.
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// versionQuery is the query parameter of a versioned URL; its value is
// Version of the content.
const versionQuery = "v"

// loaderFiles is the line of api.js that names the module and the glue;
// New writes their versioned URLs into it.
const loaderFiles = "var MODULE = 'pbxauth.wasm', RUNTIME = 'wasm_exec.js';"

// loader is the classic script: api.js, the script tag's own part, and
// loader.js, the loader proper that the npm package shares, in one function
// so that loader.js's `load` is no global of the page. api.js calls load,
// whose declaration the function hoists.
var loader = classicScript(classicPart, loaderPart)

func classicScript(parts ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("(function () {\n")
	for _, p := range parts {
		b.Write(p)
		if !bytes.HasSuffix(p, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	b.WriteString("})();\n")
	return b.Bytes()
}

// ClassicScript returns the classic script as the PBX serves it at
// /api/api.js, but with the plain names of the module and the glue: api.js
// and loader.js of this folder in one function. The npm package ships it as
// its api.js.
func ClassicScript() []byte { return bytes.Clone(loader) }

const (
	typeJS   = "text/javascript; charset=utf-8"
	typeHTML = "text/html; charset=utf-8"
	typeWasm = "application/wasm"
	typeText = "text/plain; charset=utf-8"
	typeCSS  = "text/css; charset=utf-8"
)

// Encoding is a content coding the site serves, with the suffix of the
// precompressed copy that ./web/internal/cmd/precompress writes beside a file, so that
// the tool and the server agree on names by construction.
type Encoding struct {
	Name     string // the Content-Encoding token
	Suffix   string // ".br" for pbxauth.wasm.br
	Compress func([]byte) []byte
}

// Encodings returns the codings the site serves, in the server's order of
// preference when the client accepts several equally: Zstandard first
// (Chromium decodes it faster: make bench measured the module's cold load 5
// to 7% shorter than with brotli, for some 20% more bytes), then brotli (the
// smallest), then gzip.
func Encodings() []Encoding {
	return []Encoding{
		{Name: "zstd", Suffix: ".zst", Compress: compressZstd},
		{Name: "br", Suffix: ".br", Compress: compressBrotli},
		{Name: "gzip", Suffix: ".gz", Compress: compressGzip},
	}
}

// zstdWindow is the largest window the Zstandard content coding allows (RFC
// 9659: decoders need not accept more than 8 MiB, and Chromium does not).
const zstdWindow = 8 << 20

// compressZstd uses the best level of klauspost/compress with a window that
// browsers accept whatever the size of the input; it runs on the server and
// in make build only, never in the module.
func compressZstd(b []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithWindowSize(zstdWindow), zstd.WithSingleSegment(false), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err) // the options are valid constants
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// compressBrotli uses the largest window browsers accept: the module is
// megabytes, and the default window of 4 MiB would cost it some ratio.
func compressBrotli(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 24})
	w.Write(b) // writes to a bytes.Buffer do not fail
	w.Close()
	return buf.Bytes()
}

func compressGzip(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// Site is the http.Handler of the browser-facing assets.
type Site struct {
	mux     *http.ServeMux
	missing error
}

// Handler returns the Site built from the web/internal/site/dist embedded at compile
// time; see New for frameAncestors. The small assets are compressed the
// first time a Site is built in the process.
func Handler(frameAncestors []string) *Site {
	dist, err := fs.Sub(embedded, "dist")
	if err != nil {
		panic(err) // "dist" is a valid name, so this cannot happen
	}
	return New(dist, frameAncestors)
}

// New returns the Site serving the build outputs in dist, a folder laid out
// as `make build` leaves web/internal/site/dist. Outputs dist lacks answer 503 and are
// reported by Missing, so the demo page still works on a fresh clone.
//
// frameAncestors are the origins whose pages may frame the login overlay
// besides the server's own: the server's trusted origins, as
// pbx.ParseOrigins returns them ("scheme://host[:port]", ":*" for any
// port, which is also CSP's syntax).
func New(dist fs.FS, frameAncestors []string) *Site {
	s := &Site{mux: http.NewServeMux()}
	s.mux.Handle("GET /api/api.d.ts", newAsset(typeText, typeDefs, compressAll(typeDefs)))
	s.mux.Handle("GET /{$}", pageHeaders(DemoCSP, newAsset(typeHTML, demoPage, compressAll(demoPage))))
	s.mux.Handle("GET "+DemoScriptPath, newAsset(typeJS, demoScript, compressAll(demoScript)))
	s.mux.Handle("GET "+DemoStylePath, newAsset(typeCSS, demoStyle, compressAll(demoStyle)))
	s.mux.Handle("GET "+LoginPagePath, pageHeaders(LoginCSP(frameAncestors), newAsset(typeHTML, loginPage, compressAll(loginPage))))
	s.mux.Handle("GET "+LoginScriptPath, newAsset(typeJS, loginScript, compressAll(loginScript)))
	s.mux.Handle("GET "+LoginStylePath, newAsset(typeCSS, loginStyle, compressAll(loginStyle)))

	var missing []string
	versions := map[string]string{}
	for _, f := range []struct {
		name, contentType string
		precompressed     bool // by make build; the others are small enough to compress here
	}{
		{runtimeFile, typeJS, false},
		{moduleFile, typeWasm, true},
	} {
		body, err := fs.ReadFile(dist, f.name)
		if err != nil {
			missing = append(missing, f.name)
			s.mux.Handle("GET /api/"+f.name, notBuilt(f.name))
			continue
		}
		var encoded map[string][]byte
		if f.precompressed {
			encoded = readSiblings(dist, f.name)
		} else {
			encoded = compressAll(body)
		}
		a := newAsset(f.contentType, body, encoded)
		a.version = Version(body)
		versions[f.name] = a.version
		s.mux.Handle("GET /api/"+f.name, a)
	}
	apiJS := versionedLoader(loader, versions)
	api := newAsset(typeJS, apiJS, compressAll(apiJS))
	for _, p := range []string{"/api/api.js", "/api/wrapper.whtm", "/api/wrapper_kphone.whtm"} {
		s.mux.Handle("GET "+p, api)
	}
	if missing != nil {
		s.missing = fmt.Errorf("web/internal/site/dist lacks %s: run `make build` and restart the server; until then the demo page cannot load the module (503)",
			strings.Join(missing, " and "))
	}
	return s
}

// Version is the short content hash that versions a file's URL: the first
// 12 bytes of its SHA-256, in URL-safe base64 (16 characters).
func Version(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// versionedLoader returns the loader with the versioned URL of each file of
// versions (by name) written into its loaderFiles line; a file without a
// version (not built) keeps its plain name. The line is in api.js, which is
// embedded, so its absence is a bug of this package, and panics.
func versionedLoader(js []byte, versions map[string]string) []byte {
	if bytes.Count(js, []byte(loaderFiles)) != 1 {
		panic("site: api.js lacks the line " + loaderFiles)
	}
	line := loaderFiles
	for _, name := range []string{moduleFile, runtimeFile} {
		if v, ok := versions[name]; ok {
			line = strings.Replace(line, "'"+name+"'", "'"+name+"?"+versionQuery+"="+v+"'", 1)
		}
	}
	return bytes.Replace(js, []byte(loaderFiles), []byte(line), 1)
}

// LoginCSP is the Content-Security-Policy of the login overlay page: its own
// script, style and REST calls and nothing else, no form submission or
// <base>, and framing only by the server's own pages and frameAncestors.
// Entries with an IPv6 address are left out: CSP's host syntax has none, and
// browsers would ignore them with a console error.
func LoginCSP(frameAncestors []string) string {
	ancestors := []string{"'self'"}
	for _, o := range frameAncestors {
		if strings.Contains(o, "[") || !cspSource(o) {
			continue
		}
		ancestors = append(ancestors, o)
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
		"form-action 'none'; base-uri 'none'; frame-ancestors " + strings.Join(ancestors, " ")
}

// cspSource reports whether o can go into a source list as it is: no
// spaces, semicolons or commas, which would end the source or the directive.
func cspSource(o string) bool {
	return o != "" && !strings.ContainsAny(o, " \t\r\n;,'\"")
}

// pageHeaders adds to a page's replies its Content-Security-Policy (for the
// login page, what keeps it from being framed by other sites) and the header
// that keeps it from telling the next page where the user came from.
func pageHeaders(csp string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// Missing returns an error naming the build outputs that the Site lacks, for
// the server to warn about at startup, or nil when it has them all.
func (s *Site) Missing() error { return s.missing }

// ServeHTTP serves one request.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// compressions holds, by the SHA-256 of a body, the function that
// compresses it with every encoding the first time it is called and returns
// the same copies after that: the best levels cost seconds under -race, and
// a process that builds the site many times (tests, pbxtest) pays once per
// asset and encoding.
var compressions sync.Map // [sha256.Size]byte → func() map[string][]byte

// compressAll returns body compressed with every encoding, by name; the
// caller must not change the map or the copies.
func compressAll(body []byte) map[string][]byte {
	once, _ := compressions.LoadOrStore(sha256.Sum256(body), sync.OnceValue(func() map[string][]byte {
		out := map[string][]byte{}
		for _, e := range Encodings() {
			out[e.Name] = e.Compress(body)
		}
		return out
	}))
	return once.(func() map[string][]byte)()
}

// readSiblings returns the precompressed copies of name found in dist, by
// encoding name; a missing copy only means that encoding is not offered.
func readSiblings(dist fs.FS, name string) map[string][]byte {
	out := map[string][]byte{}
	for _, e := range Encodings() {
		if b, err := fs.ReadFile(dist, name+e.Suffix); err == nil {
			out[e.Name] = b
		}
	}
	return out
}

// notBuilt answers for a build output that dist lacks.
func notBuilt(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.Error(w, name+" is not built: run `make build` and restart the server", http.StatusServiceUnavailable)
	})
}

// representation is an asset's body in one encoding ("" for none).
type representation struct {
	encoding string
	body     []byte
	etag     string
}

// asset is one resource in every encoding the site has for it, in the order
// of Encodings with the unencoded body last.
type asset struct {
	contentType string
	reps        []representation
	version     string // of a file served under a versioned URL too; "" if none
}

// newAsset keeps the encoded bodies that are smaller than body.
func newAsset(contentType string, body []byte, encoded map[string][]byte) *asset {
	a := &asset{contentType: contentType}
	for _, e := range Encodings() {
		if b, ok := encoded[e.Name]; ok && len(b) < len(body) {
			a.reps = append(a.reps, newRepresentation(e.Name, b))
		}
	}
	a.reps = append(a.reps, newRepresentation("", body))
	return a
}

func newRepresentation(encoding string, body []byte) representation {
	sum := sha256.Sum256(body)
	return representation{encoding: encoding, body: body, etag: fmt.Sprintf(`"%x"`, sum[:16])}
}

// ServeHTTP sends the representation the client prefers, or 304 when its
// cached copy has the same ETag. It does not use http.ServeContent, whose
// Range support would cut an encoded body into a multipart reply that is not
// valid under Content-Encoding, and which leaves out Content-Length once
// Content-Encoding is set; the bodies are in memory, so this is simpler. No
// Range is honoured: the assets are small enough to send whole.
func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := a.negotiate(strings.Join(r.Header.Values("Accept-Encoding"), ","))
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	h.Set("Cache-Control", a.cacheControl(r))
	h.Set("ETag", rep.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if matchesETag(strings.Join(r.Header.Values("If-None-Match"), ","), rep.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.contentType)
	if rep.encoding != "" {
		h.Set("Content-Encoding", rep.encoding)
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	if r.Method != http.MethodHead {
		w.Write(rep.body)
	}
}

// cacheControl is immutable for the versioned URL of the current content, and
// no-cache for any other.
func (a *asset) cacheControl(r *http.Request) string {
	if a.version != "" && r.URL.Query().Get(versionQuery) == a.version {
		return cacheImmutable
	}
	return cacheRevalidate
}

// negotiate picks the representation with the highest q in the request's
// Accept-Encoding, the earlier one on a tie. The unencoded body is the
// fallback: it is sent when nothing else is accepted (no header, as curl
// expects), when the client prefers it by name, and even when the client
// refuses it (identity;q=0 or *;q=0), as a whole body serves a script tag
// better than a 406.
func (a *asset) negotiate(acceptEncoding string) representation {
	q := parseAcceptEncoding(acceptEncoding)
	best, bestQ := len(a.reps)-1, 0.0
	for i, rep := range a.reps {
		coding := rep.encoding
		if coding == "" {
			coding = "identity"
		}
		w, ok := q[coding]
		if !ok {
			w = q["*"]
		}
		if w > bestQ {
			best, bestQ = i, w
		}
	}
	return a.reps[best]
}

// parseAcceptEncoding returns the q of each coding listed, lower-cased, with
// x-gzip read as gzip. A q that does not parse counts as 0.
func parseAcceptEncoding(header string) map[string]float64 {
	q := map[string]float64{}
	for item := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(item, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "" {
			continue
		}
		if coding == "x-gzip" {
			coding = "gzip"
		}
		w := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				w = f
			}
		}
		q[coding] = w
	}
	return q
}

// matchesETag reports whether an If-None-Match list names etag, with the weak
// comparison RFC 9110 asks for there, or is "*".
func matchesETag(ifNoneMatch, etag string) bool {
	for t := range strings.SplitSeq(ifNoneMatch, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
