/* IPCortex.PBX.Auth loader: defines the object at once, loads the Go/WebAssembly
 * module beside this script, and replays every call made before the module was
 * ready, in order. Served as /api/api.js, /api/wrapper.whtm and
 * /api/wrapper_kphone.whtm. The module owns all state once it is ready; before
 * that, the few synchronous methods answer from what the module will read.
 *
 * Two files: this one, the classic script's own part, finds the module beside
 * its own src and hands it to `load`, the loader proper, in loader.js, which
 * the npm package (web/npm) shares: its ES module and Node.js entries call
 * the same `load` with their own URLs. The server sends the two in one
 * function, so that `load` is no global of the page:
 * (function () { api.js loader.js })(); (site.ClassicScript). */
(function () {
  'use strict';
  var g = globalThis;
  var src = scriptSrc();
  var base = src.replace(/[?#].*$/, '').replace(/[^\/]*$/, '');
  // The module and the runtime glue, beside this script. The server that
  // sends this script puts the content hash of each in its URL (?v=HASH),
  // and sends such a URL with immutable caching: a warm load revalidates only
  // this script, and fetches them again only when they change.
  var MODULE = 'pbxauth.wasm', RUNTIME = 'wasm_exec.js';
  load({
    root: g,
    module: base + MODULE,
    runtime: base + RUNTIME,
    host: new URL(src).origin,
    from: base,
    hint: 'check that the PBX serves it',
    dom: true,
    onReady: function () {
      if (typeof g.onAPILoadReady === 'function') {
        try { g.onAPILoadReady(); } catch (e) { console.error('onAPILoadReady threw', e); }
      }
    }
  });

  function scriptSrc() {
    var s = document.currentScript;
    if (s && s.src) return s.src;
    var all = document.getElementsByTagName('script');
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/(api\.js|wrapper(_kphone)?\.whtm)([?#]|$)/.test(all[i].src)) return all[i].src;
    }
    return location.href;
  }
})();
