/* The loader proper, shared by the classic script (api.js, which the server
 * sends with this file in one function) and the npm package, whose loader.js
 * is this file with `export { load };` (make build writes it into out/npm). */
function load(env) {
  // env: root, the object that gets IPCortex.PBX.Auth (globalThis for the
  // script tag); module, the URL of pbxauth.wasm, or compile, a function
  // that returns a Promise of the compiled module; runtime, the URL of
  // wasm_exec.js, loaded with a script tag unless globalThis.Go is there;
  // host, the default API host ('' for none); from and hint, for the message
  // when the module cannot load; dom, false where there is no page (Node.js):
  // no tab handshake, and the module runs without overlay or web storage;
  // storage, a function that returns where the sub-ID is kept (default
  // sessionStorage); boot, an object of more settings for the module;
  // onReady, called once the module is ready. Returns {Auth, PBX, ready},
  // ready a Promise that resolves once the module is ready, or rejects with
  // why it could not load.
  'use strict';
  var g = globalThis;
  var root = env.root;
  root.IPCortex = root.IPCortex || {};
  root.IPCortex.PBX = root.IPCortex.PBX || {};
  if (root.IPCortex.PBX.Auth && root.IPCortex.PBX.Auth._pbxauthLoader) return; // loaded twice

  var SUBID_KEY = 'IPCortex.PBX.Auth.subid'; // = auth.SubIDKey in core/auth

  var Auth = { id: null, uname: null, name: null, company: null };
  Object.defineProperty(Auth, '_pbxauthLoader', { value: true });
  root.IPCortex.PBX.Auth = Auth;

  var impl = null;      // the module's implementation, once ready
  var failed = null;    // why the module could not load, or why it stopped
  var queue = [];       // calls made before it was ready
  var go = null;        // the Go runtime, once started
  var settle = {};      // resolve and reject of ready
  var ready = new Promise(function (resolve, reject) { settle.resolve = resolve; settle.reject = reject; });
  ready.catch(function () {}); // a failure is reported on the console and to every call

  function authError(code, msg, Ctor) {
    var e = new (Ctor || Error)('IPCortex.PBX.Auth: ' + msg);
    e.code = code;
    return e;
  }

  function hasCallback(args) {
    for (var i = 0; i < args.length; i++) if (typeof args[i] === 'function') return true;
    return false;
  }

  // call runs a method of the module. If the Go program has exited (it
  // should not: every entry point recovers), wasm_exec.js would throw "Go
  // program has already exited" at every later call; the module is dropped
  // instead, and every later call fails with a clear internal error.
  function call(name, args) {
    try {
      return impl[name].apply(impl, args);
    } catch (e) {
      if (go && go.exited) { stopped(); throw failed; }
      throw e;
    }
  }
  function stopped() {
    if (!impl) return;
    impl = null;
    failed = authError('internal', 'the auth module stopped unexpectedly; reload the page (and please report this)');
    console.error(failed.message);
  }

  // refuse fails a call with the reason the module is not there, through
  // its callback too: an Auth call's (false, message); the feed's error
  // callback, its second function, (1, message), errno 1 being the vendor's
  // internal error.
  function refuse(name, args) {
    var fns = Array.prototype.filter.call(args, function (a) { return typeof a === 'function'; });
    var feed = name === 'startFeed' || name === 'startPoll';
    var cb = feed ? fns[1] : fns[0];
    var p = Promise.reject(failed);
    if (fns.length) p.catch(function () {});
    if (cb) setTimeout(function () { feed ? cb(1, failed.message) : cb(false, failed.message); });
    return p;
  }

  // Asynchronous methods: before the module is ready, a Promise that follows
  // the module's own once the call is replayed.
  function later(name) {
    return function () {
      var args = arguments;
      if (impl) {
        try { return call(name, args); } catch (e) { if (e === failed) return refuse(name, args); throw e; }
      }
      if (failed) return refuse(name, args);
      var p = new Promise(function (resolve, reject) {
        queue.push(function () { resolve(call(name, args)); }, reject);
      });
      if (hasCallback(args)) p.catch(function () {}); // the callback reports it
      return p;
    };
  }
  ['login', 'logout', 'exit', 'rtcReset', 'rtcreset', 'setCompany', 'selcompany'].forEach(function (n) {
    Auth[n] = later(n);
  });

  // Synchronous methods: the module's answer once ready (an Error is thrown);
  // before, `early` answers and `replay` (default: the same call) hands over
  // to the module when it is ready.
  function now(name, early, replay) {
    return function () {
      if (impl) {
        var r = call(name, arguments);
        if (r instanceof Error) throw r;
        return r;
      }
      if (failed && failed.code === 'internal') throw failed;
      var args = arguments;
      var r2 = early.apply(null, args);
      if (!failed) queue.push(replay || function () { report(impl[name].apply(impl, args)); }, function () {});
      return r2;
    };
  }
  function report(r) { if (r instanceof Error) console.warn(r.message); }

  // The live feed, on IPCortex.PBX itself; unbound use works, as in
  // login().then(IPCortex.PBX.startFeed).
  var PBX = root.IPCortex.PBX;
  ['startFeed', 'startPoll'].forEach(function (n) { PBX[n] = later(n); });
  ['stopFeed', 'stopPoll', 'pauseFeed', 'httpStopReuse'].forEach(function (n) { PBX[n] = now(n, function () {}); });

  Auth.setHost = now('setHost', function (uri) { checkHost('setHost', uri, 'https', 'http'); });
  Auth.setWSHost = now('setWSHost', function (uri) { checkHost('setWSHost', uri, 'wss', 'ws'); });
  Auth.getUserInfo = now('getUserInfo', function () {
    return { id: null, login: null, name: null, company: null, home: null, perms: {} };
  });

  // The sub-ID lives in sessionStorage (env.storage), where the module reads
  // it too. Before the module is ready, getSubID hands out the stored (or a
  // new) one, and the module adopts it (useSubID) when it is.
  var handedOut = null;  // the sub-ID getSubID gave before the module was ready
  var usedSubID = false; // whether this page asked for a sub-ID at all
  var storage = env.storage || function () { return g.sessionStorage; };
  function storedSubID() {
    try { return storage().getItem(SUBID_KEY); } catch (e) { return null; }
  }
  function newSubID() {
    var b = crypto.getRandomValues(new Uint8Array(16));
    var v = Array.prototype.map.call(b, function (x) { return (x < 16 ? '0' : '') + x.toString(16); }).join('');
    try { storage().setItem(SUBID_KEY, v); } catch (e) { /* the module keeps it in memory */ }
    return v;
  }
  var getSubID = now('getSubID', function () {
    var v = storedSubID();
    handedOut = v && /^[A-Za-z0-9_-]{1,64}$/.test(v) ? v : newSubID();
    return handedOut;
  }, function () { report(impl.useSubID(handedOut)); });
  Auth.getSubID = function () { usedSubID = true; return getSubID.apply(this, arguments); };

  // A duplicated tab, or one opened with window.open, starts with a copy of
  // its opener's sessionStorage, sub-ID included, and the two tabs would share
  // the login the sub-ID is meant to keep apart. So a page that finds a stored
  // sub-ID asks the other tabs whether one of them holds it, and takes a new
  // one if so.
  if (env.dom) (function () {
    var stored = storedSubID(), me, ch;
    if (typeof BroadcastChannel !== 'function') return;
    try { ch = new BroadcastChannel(SUBID_KEY); } catch (e) { return; }
    me = Math.random().toString(36).slice(2);
    ch.onmessage = function (ev) {
      var m = ev.data || {}, mine = storedSubID();
      if (m.ask && m.ask === mine && m.from !== me) {
        ch.postMessage({ taken: mine, to: m.from });
      } else if (m.taken && m.to === me && m.taken === mine) {
        var fresh = newSubID();
        console.warn('IPCortex.PBX.Auth: this tab began as a copy of another one; it now has a sub-ID of its own');
        if (!usedSubID) return;
        if (impl) report(impl.useSubID(fresh)); else handedOut = fresh;
      }
    };
    if (stored) ch.postMessage({ ask: stored, from: me });
  })();

  // checkHost mirrors core/endpoint.parse, so that setHost throws before the
  // module is ready exactly when it would after (the browser tests compare).
  function checkHost(what, s, secure, plain) {
    var ex = ' (for example ' + secure + '://pbx.example.com)';
    if (typeof s !== 'string') throw authError('bad_option', what + ': the host must be a string, not ' + (s === null ? 'null' : typeof s), TypeError);
    if (s.trim() === '') throw authError('bad_option', what + ': the host is empty' + ex);
    var rest = s, i = s.indexOf('://');
    if (i >= 0) {
      var scheme = s.slice(0, i).toLowerCase();
      rest = s.slice(i + 3);
      if (scheme !== secure && scheme !== plain) throw authError('bad_option', what + ': scheme "' + scheme + '" is not allowed' + ex);
    }
    rest = rest.replace(/\/$/, '');
    var bad = function () { throw authError('bad_option', what + ': ' + JSON.stringify(s) + ' must be only scheme://host[:port]' + ex); };
    if (/[\/?#@\\ \t\r\n]/.test(rest)) bad();
    var host = rest, port = '';
    if (rest.charAt(0) === '[') {
      var end = rest.indexOf(']');
      if (end < 0) bad();
      host = rest.slice(1, end);
      var after = rest.slice(end + 1);
      if (!/^[0-9a-fA-F:.]+$/.test(host) || host.split(':').length < 3) bad();
      if (after !== '') { if (after.charAt(0) !== ':') bad(); port = after.slice(1); if (port === '') bad(); }
    } else {
      var j = rest.lastIndexOf(':');
      if (j >= 0) { host = rest.slice(0, j); port = rest.slice(j + 1); if (port === '') bad(); }
      if (host === '' || host.length > 253) bad();
      host.split('.').forEach(function (l) { if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l)) bad(); });
    }
    if (port !== '' && (!/^[1-9][0-9]*$/.test(port) || Number(port) > 65535)) bad();
  }

  function start(x) {
    Promise.resolve().then(function () {
      impl = x;
      while (queue.length) { var run = queue.shift(); var reject = queue.shift(); try { run(); } catch (e) { reject(e); } }
      settle.resolve();
      if (env.onReady) env.onReady();
    });
  }

  function fail(why) {
    failed = authError('network', 'the auth module could not load from ' + env.from + ' (' + why + '); ' + env.hint);
    console.error(failed.message);
    while (queue.length) { queue.shift(); queue.shift()(failed); }
    settle.reject(failed);
  }

  // Fetch and compile the module while wasm_exec.js loads: streaming, or,
  // where that fails (a server that sends another Content-Type), from bytes.
  function fetchWasm() {
    return fetch(env.module, { credentials: 'omit' }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status + ' for pbxauth.wasm');
      return r;
    });
  }
  function compileBytes() {
    return fetchWasm().then(function (r) { return r.arrayBuffer(); }).then(function (b) { return WebAssembly.compile(b); });
  }
  var compiled = env.compile ? Promise.resolve().then(env.compile)
    : WebAssembly.compileStreaming
      ? WebAssembly.compileStreaming(fetchWasm()).catch(function (e) {
        if (e instanceof TypeError) return compileBytes(); // not served as application/wasm
        throw e;
      })
      : compileBytes();
  var runtime = new Promise(function (resolve, reject) {
    if (typeof g.Go === 'function') return resolve();
    if (!env.runtime) return reject(new Error('wasm_exec.js was not loaded'));
    var s = document.createElement('script');
    s.src = env.runtime;
    s.onload = function () { resolve(); };
    s.onerror = function () { reject(new Error('cannot load wasm_exec.js')); };
    (document.head || document.documentElement).appendChild(s);
  });
  Promise.all([compiled, runtime]).then(function (r) {
    go = new g.Go();
    return WebAssembly.instantiate(r[0], go.importObject).then(function (inst) {
      var boot = env.boot || {};
      boot.host = env.host;
      boot.auth = Auth;
      boot.ready = function (x) { delete g.__pbxauth; start(x); };
      g.__pbxauth = boot;
      go.run(inst).then(function () { if (impl) stopped(); else fail('the module exited'); });
    });
  }).catch(function (e) { fail(e && e.message ? e.message : String(e)); });

  return { Auth: Auth, PBX: PBX, ready: ready };
}
