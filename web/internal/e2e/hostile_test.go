package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// hostileSeed makes the hostile calls reproducible: the same seed makes the
// same calls with the same arguments in the same order.
const hostileSeed = 20250611

// hostileCalls is how many random calls each of the two random phases makes:
// phase 1 on the lines after the script tag (queued before the module is
// ready), phase 2 once phase 1 has ended. Phase 3 then sweeps every method
// with every kind of value.
const hostileCalls = 150

// hostileJS makes the calls of the three phases and records how each ended in
// window.hostile.
const hostileJS = `
(function () {
  'use strict';
  var A = IPCortex.PBX.Auth;
  var PBX = '{{PBX}}', WS = PBX.replace(/^http/, 'ws');
  var seed = {{SEED}}, N = {{N}};
  function rnd() { // mulberry32
    seed = (seed + 0x6D2B79F5) | 0;
    var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  function int(n) { return Math.floor(rnd() * n); }
  function pick(a) { return a[int(a.length)]; }
  function randStr(n) {
    var s = '';
    for (var i = 0; i < n; i++) s += String.fromCharCode(pick([int(128), 0x20 + int(95), 0xe9, 0x4e2d, 0xd83d, 0xfeff, 0]));
    return s;
  }
  var MB = 'x'.repeat(1 << 20);
  var MBU = '\u00e9\u4e2d'.repeat(1 << 18);
  function thrower(what) { return function () { throw new Error('hostile ' + what); }; }
  var traps = {};
  ['get', 'set', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'defineProperty',
   'deleteProperty', 'apply', 'construct', 'isExtensible', 'preventExtensions', 'setPrototypeOf'].forEach(function (k) {
    traps[k] = thrower('trap ' + k);
  });
  var KEYS = ['username', 'password', 'checkonly', 'subid', 'tokens', 'tokenCB', 'nodom', 'notoken',
              'application', 'origin', 'logout', 'getnew', 'company'];
  var plausible = ['alice', 'wonderland', 'bob', 'builder', 'acme', 'default', '', ' ', PBX, PBX + '/', WS,
    'ftp://x', 'https://pbx:+80', '[::1]:8080', 'pbx.example.com', 'a-b_c', '../..', '<script>', '%00', 'true',
    'refreshable', 'longLogin', 'x'.repeat(65)];
  function nest(depth) { var o = {v: 1}; for (var i = 0; i < depth; i++) o = {next: o, username: 'n' + i}; return o; }
  var makers = [
    ['number', function () { return rnd() * 1e6 - 5e5; }],
    ['integer', function () { return int(200) - 100; }],
    ['NaN', function () { return NaN; }],
    ['-Infinity', function () { return -Infinity; }],
    ['-0', function () { return -0; }],
    ['MAX_VALUE', function () { return Number.MAX_VALUE; }],
    ['boolean', function () { return rnd() < 0.5; }],
    ['null', function () { return null; }],
    ['undefined', function () { return undefined; }],
    ['short string', function () { return randStr(int(20)); }],
    ['plausible string', function () { return pick(plausible); }],
    ['1MB string', function () { return MB; }],
    ['1MB non-ASCII string', function () { return MBU; }],
    ['lone surrogate', function () { return '\ud800' + randStr(3); }],
    ['symbol', function () { return Symbol('hostile'); }],
    ['BigInt', function () { return BigInt(int(1e9)) * (10n ** 30n); }],
    ['nested object', function () { return nest(1 + int(50)); }],
    ['deep object', function () { return nest(5000); }],
    ['array', function () { return [1, 'a', null, {}, [2]]; }],
    ['array of 20000 strings', function () { return new Array(20000).fill('t'); }],
    ['huge sparse array', function () { var a = []; a[4294967294] = 'x'; return a; }],
    ['function', function () { return function () { return 42; }; }],
    ['throwing function', function () { return thrower('callback'); }],
    ['Proxy with throwing traps', function () { return new Proxy({}, traps); }],
    ['function Proxy with throwing traps', function () { return new Proxy(function () {}, traps); }],
    ['array Proxy with throwing traps', function () { return new Proxy([], traps); }],
    ['revoked Proxy', function () { var r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; }],
    ['toString/valueOf throw', function () { return {toString: thrower('toString'), valueOf: thrower('valueOf')}; }],
    ['Symbol.toPrimitive throws', function () { var o = {}; o[Symbol.toPrimitive] = thrower('toPrimitive'); return o; }],
    ['getters throw', function () {
      var o = {};
      KEYS.forEach(function (k) { Object.defineProperty(o, k, {get: thrower('get ' + k), enumerable: true}); });
      return o;
    }],
    ['options', function () { return options(2); }],
    ['options', function () { return options(2); }],
    ['options', function () { return options(2); }],
    ['null-prototype object', function () { return Object.create(null); }],
    ['Date', function () { return new Date(0); }],
    ['RegExp', function () { return /x/g; }],
    ['Uint8Array', function () { return new Uint8Array(16); }],
    ['resolved Promise', function () { return Promise.resolve(1); }],
    ['throwing thenable', function () { return {then: thrower('then')}; }],
    ['DOM node', function () { return document.body; }],
    ['window', function () { return window; }],
    ['Error', function () { return new Error('an error as argument'); }],
    ['cyclic object', function () { var o = {}; o.self = o; o.username = o; o.tokens = [o]; return o; }]
  ];
  // options is an object with some of the option names, set to random values.
  function options(depth) {
    var o = {}, n = int(4);
    for (var i = 0; i < n; i++) o[pick(KEYS)] = value(depth - 1).v;
    return o;
  }
  function value(depth) {
    var m = pick(makers);
    while (depth <= 0 && m[0] === 'options') m = pick(makers);
    return {d: m[0], v: m[1]()};
  }
  var methods = ['login', 'logout', 'exit', 'rtcReset', 'rtcreset', 'setCompany', 'selcompany',
                 'getSubID', 'setHost', 'setWSHost', 'getUserInfo'];
  var sync = {getSubID: 1, setHost: 1, setWSHost: 1, getUserInfo: 1};

  function one(phase, i, job) {
    var method, n = int(5), args = [], desc = [];
    if (job) {
      method = job.method; args = job.args(); desc = [job.desc]; n = 0;
    } else {
      method = pick(methods);
      for (var k = 0; k < n; k++) { var x = value(2); args.push(x.v); desc.push(x.d); }
    }
    // Bias some calls towards values that get past the type checks, so that
    // hosts are really changed (and restored) and logins really reach the PBX.
    if (!job && (method === 'setHost' || method === 'setWSHost') && rnd() < 0.5) {
      args[0] = pick(plausible); desc[0] = 'host ' + JSON.stringify(args[0]);
    }
    if (!job && method === 'login' && rnd() < 0.3) {
      args[0] = {username: pick(plausible), password: pick(plausible)};
      desc[0] = 'credentials ' + JSON.stringify(args[0]);
    }
    var fn = function () {
      try {
        return A[method].apply(A, args);
      } finally {
        if (method === 'setHost') A.setHost(PBX);
        if (method === 'setWSHost') A.setWSHost(WS);
      }
    };
    return T.run(fn, false).then(function (out) {
      return {phase: phase, i: i, method: method, sync: !!sync[method], args: desc.join(', '),
              state: out.state, timedOut: !!out.timedOut, promise: out.promise, isError: !!out.isError,
              errName: out.errName || '', code: typeof out.code === 'string' ? out.code : String(out.code),
              codeType: out.codeType || '', message: out.message || '', valueType: out.valueType || ''};
    });
  }
  function phase(p) {
    var runs = [];
    for (var i = 0; i < N; i++) runs.push(one(p, i, null));
    return Promise.all(runs);
  }
  // sweep calls every method with every kind of value, as the first
  // argument and as the second (where callbacks go), in batches.
  function sweep() {
    var jobs = [];
    methods.forEach(function (m) {
      makers.forEach(function (mk) {
        jobs.push({method: m, args: function () { return [mk[1]()]; }, desc: mk[0]});
        jobs.push({method: m, args: function () { return [undefined, mk[1]()]; }, desc: 'undefined, ' + mk[0]});
      });
    });
    var out = [], at = 0;
    function batch() {
      if (at >= jobs.length) return Promise.resolve(out);
      var runs = jobs.slice(at, at + 60).map(function (j, k) { return one(3, at + k, j); });
      at += 60;
      return Promise.all(runs).then(function (l) { out = out.concat(l); return batch(); });
    }
    window.hostileSweep = jobs.length;
    return batch();
  }
  // A login without credentials shows the overlay and waits for the user;
  // this one closes it at once, every time.
  setInterval(function () {
    if (document.querySelector('pbxauth-login')) {
      document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
    }
  }, 50);
  window.hostile = {done: false, list: []};
  phase(1).then(function (l1) {
    window.hostile.list = l1;
    return phase(2);
  }).then(function (l2) {
    window.hostile.list = window.hostile.list.concat(l2);
    return sweep();
  }).then(function (l3) {
    window.hostile.list = window.hostile.list.concat(l3);
    window.hostile.done = true;
  }, function (e) {
    window.hostile.failed = T.clip(e && e.stack || e);
    window.hostile.done = true;
  });
})();
`

// hostileCall is how one hostile call ended.
type hostileCall struct {
	Phase     int    `json:"phase"`
	I         int    `json:"i"`
	Method    string `json:"method"`
	Sync      bool   `json:"sync"`
	Args      string `json:"args"`
	State     string `json:"state"`
	TimedOut  bool   `json:"timedOut"`
	Promise   bool   `json:"promise"`
	IsError   bool   `json:"isError"`
	ErrName   string `json:"errName"`
	Code      string `json:"code"`
	CodeType  string `json:"codeType"`
	Message   string `json:"message"`
	ValueType string `json:"valueType"`
}

func (c hostileCall) String() string {
	s := fmt.Sprintf("phase %d call %d: %s(%s) -> %s", c.Phase, c.I, c.Method, c.Args, c.State)
	if c.TimedOut {
		s += " (no answer within the deadline)"
	}
	if c.State == "rejected" || c.State == "threw" {
		s += fmt.Sprintf(" isError=%t name=%q code(%s)=%q message=%q", c.IsError, c.ErrName, c.CodeType, c.Code, c.Message)
	} else {
		s += " value type " + c.ValueType
	}
	return s
}

// problem says what is wrong with how the call ended, or "".
func (c hostileCall) problem() string {
	switch {
	case c.TimedOut || c.State == "pending":
		return "hung"
	case (c.State == "rejected" || c.State == "threw") && (!c.IsError || c.CodeType != "string" || c.Code == ""):
		return "failed without an Error with a string code"
	case !c.Sync && c.State != "resolved" && c.State != "rejected":
		return "asynchronous method did not return a Promise"
	case c.Sync && c.State != "returned" && c.State != "threw":
		return "synchronous method returned a Promise"
	case c.Sync && c.State == "returned" && c.Method == "getSubID" && c.ValueType != "string":
		return "getSubID() returned no string"
	case c.Sync && c.State == "returned" && c.Method == "getUserInfo" && c.ValueType != "object":
		return "getUserInfo() returned no object"
	}
	return ""
}

// TestHostileInput makes hundreds of calls with arguments of random types and
// sizes, before and after the module is ready: each must end, with a value or
// an Error with a string code, and the module must keep working.
func TestHostileInput(t *testing.T) {
	tb := newSession(t, 5*time.Minute)
	code := strings.NewReplacer("{{SEED}}", fmt.Sprint(hostileSeed), "{{N}}", fmt.Sprint(hostileCalls)).Replace(hostileJS)
	tb.navigate(addPage("hostile", code))

	if err := tb.poll("window.hostile && window.hostile.done", 3*time.Minute); err != nil {
		n := evalIn[int](tb, "window.hostile ? window.hostile.list.length : -1")
		tb.fatalf("the hostile calls did not all end (%v); %d recorded", err, n)
	}
	if f := evalIn[string](tb, "String(window.hostile.failed || '')"); f != "" {
		tb.fatalf("the hostile page itself failed: %s", f)
	}
	calls := evalIn[[]hostileCall](tb, "window.hostile.list")
	if want := 2*hostileCalls + evalIn[int](tb, "window.hostileSweep"); len(calls) != want {
		tb.fatalf("recorded %d hostile calls, want %d", len(calls), want)
	}

	byEnd := map[string]int{}
	byCode := map[string]int{}
	var bad []string
	for _, c := range calls {
		byEnd[fmt.Sprintf("%s %s", c.Method, c.State)]++
		if c.State == "rejected" || c.State == "threw" {
			byCode[c.Code]++
		}
		if p := c.problem(); p != "" {
			bad = append(bad, p+": "+c.String())
		}
	}
	t.Logf("seed %d: %d calls ended: %s", hostileSeed, len(calls), countList(byEnd))
	t.Logf("error codes: %s", countList(byCode))

	if len(bad) > 0 {
		if len(bad) > 40 {
			bad = append(bad[:40], fmt.Sprintf("... and %d more", len(bad)-40))
		}
		tb.errorf("%d of %d hostile calls ended wrongly:\n  %s", len(bad), len(calls), strings.Join(bad, "\n  "))
	}

	// The module still works: the host is the PBX again and a normal login
	// succeeds.
	if o := tb.call("IPCortex.PBX.Auth.setHost('{{PBX}}'); return IPCortex.PBX.Auth.setWSHost('{{PBX}}'.replace(/^http/, 'ws'))", false); o.State != "returned" {
		tb.errorf("restoring the hosts after the hostile calls: %s", o)
	}
	o := tb.call("return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland'})", false)
	if o.State != "resolved" || !idIs(o.Props, 101) {
		tb.fatalf("login as alice after the hostile calls: want resolved with id 101, got %s", o)
	}
	if o := tb.call("return IPCortex.PBX.Auth.getUserInfo()", false); o.State != "returned" || field(o.Value, "login") != "alice" {
		tb.errorf("getUserInfo() after the hostile calls: %s", o)
	}
	if o := tb.call("return IPCortex.PBX.Auth.getSubID()", false); o.State != "returned" || o.ValueType != "string" {
		tb.errorf("getSubID() after the hostile calls: %s", o)
	}
}

func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
