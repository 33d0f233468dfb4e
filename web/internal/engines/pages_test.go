package engines

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// helperJS is in every test page, before the API's script tag. It records
// what the page's calls did in a JSON-safe form that every driver reads back
// the same way (WebDriver classic and BiDi return JSON):
//
//	T.run(fn) -> Promise<outcome>  calls fn and settles with how its Promise
//	                               settled (or after CALL_MS), with the
//	                               properties at that moment
//	T.rec(name, fn)                the same, kept in T.results[name]
//	T.props()                      id, uname, name, company, getUserInfo()
//	T.feedUp, T.feedErr, T.feed    callbacks for startFeed and what they saw
//	T.sockets                      the URL of every WebSocket the page opened
//	T.loaded()                     every URL the page loaded (resource
//	                               timing) and every WebSocket's
//	T.insecure()                   those that are not https, wss, data or
//	                               blob
//	T.storageKeys(), T.storageText(), T.sessionValue()
const helperJS = `
var T = (function () {
  'use strict';
  var CALL_MS = 40000;
  var sockets = [];
  var NativeWS = window.WebSocket;
  if (typeof NativeWS === 'function') {
    window.WebSocket = class extends NativeWS {
      constructor(url, protocols) {
        if (protocols === undefined) super(url); else super(url, protocols);
        sockets.push(String(this.url));
      }
    };
  }
  function clip(s) {
    s = String(s);
    return s.length > 300 ? s.slice(0, 300) + '...' : s;
  }
  function props() {
    var A = window.IPCortex && IPCortex.PBX && IPCortex.PBX.Auth;
    if (!A) return {defined: false};
    var info = null;
    try { info = A.getUserInfo(); } catch (e) { info = {error: clip(e)}; }
    return {defined: true, id: A.id, idType: A.id === null ? 'null' : typeof A.id,
            uname: A.uname, name: A.name, company: A.company,
            infoId: info ? info.id : undefined, infoLogin: info ? info.login : undefined};
  }
  function errInfo(out, e) {
    out.isError = e instanceof Error;
    out.code = e && typeof e.code === 'string' ? e.code : null;
    out.message = e && typeof e.message === 'string' ? clip(e.message) : clip(e);
  }
  function safe(v) {
    try { return JSON.parse(JSON.stringify(v === undefined ? null : v)); } catch (e) { return clip(v); }
  }
  function run(fn) {
    var out = {state: 'pending'};
    var settled;
    try {
      var v = fn();
      if (v && typeof v.then === 'function') {
        out.isNativePromise = v instanceof Promise;
        settled = v.then(function (x) { out.state = 'resolved'; out.value = safe(x); },
                         function (e) { out.state = 'rejected'; errInfo(out, e); });
      } else {
        out.state = 'returned'; out.value = safe(v);
        settled = Promise.resolve();
      }
    } catch (e) {
      out.state = 'threw'; errInfo(out, e);
      settled = Promise.resolve();
    }
    var timer;
    var late = new Promise(function (r) { timer = setTimeout(function () { out.timedOut = true; r(); }, CALL_MS); });
    return Promise.race([settled, late]).then(function () {
      clearTimeout(timer);
      out.props = props();
      return out;
    });
  }
  var results = {};
  function rec(name, fn) {
    results[name] = {state: 'pending'};
    return run(fn).then(function (out) { results[name] = out; return out; });
  }
  var feed = {ups: 0, events: []};
  function feedUp() { feed.ups++; feed.events.push({kind: 'up'}); }
  function feedErr(errno, text) {
    var A = IPCortex.PBX.Auth;
    feed.events.push({kind: 'err', errno: errno, text: clip(text), idType: A.id === null ? 'null' : typeof A.id});
  }
  function loaded() {
    var urls = [location.href];
    ['navigation', 'resource'].forEach(function (t) {
      performance.getEntriesByType(t).forEach(function (e) { urls.push(e.name); });
    });
    return urls.concat(sockets);
  }
  function insecure() {
    return loaded().filter(function (u) { return !/^(https|wss|data|blob):/.test(u); });
  }
  function keys(s) {
    var out = [];
    for (var i = 0; i < s.length; i++) out.push(s.key(i));
    return out;
  }
  function storageKeys() { return {local: keys(localStorage), session: keys(sessionStorage)}; }
  function storageText() {
    var out = [document.cookie];
    [localStorage, sessionStorage].forEach(function (s) {
      keys(s).forEach(function (k) { out.push(k + '=' + s.getItem(k)); });
    });
    return out.join('\n');
  }
  function sessionValue() {
    var k = keys(sessionStorage).filter(function (k) { return k.indexOf('IPCortex.PBX.Auth.session:') === 0; })[0];
    return k ? sessionStorage.getItem(k) : null;
  }
  return {run: run, rec: rec, results: results, props: props, feed: feed, feedUp: feedUp, feedErr: feedErr,
          sockets: sockets, loaded: loaded, insecure: insecure, storageKeys: storageKeys, storageText: storageText,
          sessionValue: sessionValue};
})();
`

// page is a vendor page: the helper, the API's one script tag, and code
// right after it.
func page(pbx, title, code string) string {
	return fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>%s</title></head>
<body>
<h1>%s</h1>
<script>%s</script>
<script src="%s/api/api.js"></script>
<script>
%s
</script>
</body></html>
`, title, title, helperJS, pbx, code)
}

// pageHandler serves the flows' pages for the PBX at pbx.
func pageHandler(pbx string) http.Handler {
	pages := map[string]string{
		"/app.html": page(pbx, "app", ""),
		"/login.html": page(pbx, "login", `
T.rec('login', function () { return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland'}); });`),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		html, ok := pages[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, html)
	})
}

// onLocalhost turns http(s)://127.0.0.1:PORT into http(s)://localhost:PORT:
// another site than the PBX on 127.0.0.1, as a real page is to a real PBX.
func onLocalhost(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, ok := strings.CutPrefix(srv.URL, "http://127.0.0.1:")
	scheme := "http"
	if !ok {
		if u, ok = strings.CutPrefix(srv.URL, "https://127.0.0.1:"); !ok {
			t.Fatalf("the page server listens at %s, not on 127.0.0.1", srv.URL)
		}
		scheme = "https"
	}
	return scheme + "://localhost:" + u
}
