// flows.mjs: the module's main flows, written once against the driver of
// drivers.mjs, so that Chromium, Firefox and WebKit run the same steps.
//
// Each flow gets ctx = {d, site, engine, step, poll, advanceClock, note}:
// site is {scheme, pbx, page} (the PBX's origin and the page server's, two
// different sites); it throws on the first outcome that is not what a page
// must see. The pages (served by engines_test.go) are
//
//   {page}/app.html    the API's one script tag and the T helper, nothing else
//   {page}/login.html  the same, then login({username: 'alice', ...}) on the
//                      next line, recorded in T.results.login
//
// T (see engines_test.go) records what a call did in a JSON-safe form:
// T.run(fn) resolves with {state, code, message, isError, props, ...}.

const USERS = {
  alice: {id: 101, password: 'wonderland'},
  bob: {id: 102, password: 'builder'},
  carol: {id: 103, password: 'carolpass'},
};

// The overlay's hooks for WebDriver (README, "Logging in"): its iframe is a
// light-DOM child of <pbxauth-login data-pbxauth-overlay> in the body.
const OVERLAY_FRAME = 'iframe[name="pbxauth-login"]';

// Unexpected is an outcome that is not what a page must see. Its step
// marks it as named already (see within in drivers.mjs).
class Unexpected extends Error {
  get step() { return 'check'; }
}

function fail(msg) {
  throw new Unexpected(msg);
}

// fill types each field's text into the overlay and reads them all back,
// typing all once more if any holds something else: WebKitWebDriver has
// been seen to lose keys under load ("bu" for "builder", the rest gone
// elsewhere), and a lost key is then told apart from the module failing.
async function fill(ctx, f, fields) {
  for (let i = 0; ; i++) {
    for (const [sel, text] of Object.entries(fields)) await f.type(sel, text);
    const wrong = [];
    for (const [sel, text] of Object.entries(fields)) {
      const got = await f.eval(`document.querySelector(${JSON.stringify(sel)}).value`);
      if (got !== text) wrong.push(`${show(got)} in ${sel}, not ${show(text)}`);
    }
    if (!wrong.length) return;
    if (i === 1) fail(`the driver typed into the overlay, twice: ${wrong.join('; ')}`);
    ctx.note(`the driver typed ${wrong.join('; ')}: typed again`);
  }
}

function show(o) {
  return JSON.stringify(o);
}

// call runs body (a function body that returns the API's Promise) in the
// page through T.run and returns the outcome.
function call(ctx, body) {
  return ctx.d.eval(`T.run(function () { ${body} })`);
}

function wantUser(o, user, what) {
  const u = USERS[user];
  const p = o.props || {};
  if (o.state !== 'resolved' || p.id !== u.id || p.idType !== 'number' || p.uname !== user) {
    fail(`${what}: want resolved as ${user} (IPCortex.PBX.Auth.id === ${u.id}), got ${show(o)}`);
  }
}

function wantLoggedOut(p, what) {
  if (p.idType !== 'null' || p.uname !== null || p.name !== null || p.company !== null || p.infoId !== null) {
    fail(`${what}: want id, uname, name, company and getUserInfo().id all null, got ${show(p)}`);
  }
}

function wantCode(o, state, code, what) {
  if (o.state !== state || o.code !== code || !o.isError) {
    fail(`${what}: want ${state} with an Error of code ${code}, got ${show(o)}`);
  }
}

async function login(ctx, user, what) {
  const o = await call(ctx, `return IPCortex.PBX.Auth.login({username: ${JSON.stringify(user)}, password: ${JSON.stringify(USERS[user].password)}});`);
  wantUser(o, user, what || `login({username: '${user}', password})`);
  return o;
}

async function checkonly(ctx) {
  return call(ctx, 'return IPCortex.PBX.Auth.login({checkonly: true});');
}

async function logout(ctx, what) {
  const o = await call(ctx, 'return IPCortex.PBX.Auth.logout();');
  if (o.state !== 'resolved') fail(`${what || 'logout()'}: ${show(o)}`);
  return o;
}

// fresh opens the app page with nothing of an earlier flow: empty storages
// and no session on the PBX for this browser.
async function fresh(ctx, page = 'app.html') {
  const {d, site} = ctx;
  await d.open(`${site.page}/app.html`);
  await d.eval('(localStorage.clear(), sessionStorage.clear(), true)');
  await logout(ctx, 'logout() to start from nothing');
  await d.eval('(localStorage.clear(), sessionStorage.clear(), true)');
  await d.open(`${site.page}/${page}`);
}

export const flows = [
  {
    name: 'login',
    title: 'one script tag, then login({username, password}) on the next line',
    async run(ctx) {
      const {d} = ctx;
      await fresh(ctx, 'login.html');
      const o = await ctx.poll('T.results.login.state !== "pending" && T.results.login', 'the login of the page\'s own script');
      wantUser(o, 'alice', 'login({username: "alice", password}) right after the script tag');
      if (!o.isNativePromise) fail(`login() must return a native Promise, got ${show(o)}`);
      const p = await d.eval('T.props()');
      if (typeof p.name !== 'string' || p.name === '' || p.infoId !== 101 || p.infoLogin !== 'alice') {
        fail(`after the login: want a name and getUserInfo() {id: 101, login: 'alice'}, got ${show(p)}`);
      }
      const stored = await d.eval('T.storageText()');
      if (stored.includes('wonderland')) fail('the password is in the page\'s storage');
      await logout(ctx);
    },
  },
  {
    name: 'saved-token',
    title: 'a saved token: reload, login({checkonly: true}) logs the user in again',
    async run(ctx) {
      const {d} = ctx;
      await fresh(ctx);
      await login(ctx, 'bob');
      const keys = await d.eval('T.storageKeys()');
      if (!keys.local.some((k) => k.startsWith('IPCortex.PBX.Auth.token:'))) {
        fail(`after a password login, want a token in localStorage (IPCortex.PBX.Auth.token:...), got ${show(keys)}`);
      }
      const before = await d.eval('T.sessionValue()');
      await d.reload();
      wantUser(await checkonly(ctx), 'bob', 'login({checkonly: true}) after a reload');

      // Sessions end after 8 hours idle; the token (its default class)
      // lives 24 hours. After 9 hours only the saved token can log bob in.
      await ctx.advanceClock('9h');
      await d.reload();
      wantUser(await checkonly(ctx), 'bob', 'login({checkonly: true}) after a reload, 9 hours later (the session has ended; the saved token remains)');
      const after = await d.eval('T.sessionValue()');
      if (!after || after === before) {
        fail(`the token login must have made a new session in sessionStorage: before ${before ? 'one' : 'none'}, after ${after === before ? 'the same' : 'none'}`);
      }

      // A new tab has no session at all: the saved token logs it in too.
      const w = await d.newWindow();
      try {
        await d.open(`${ctx.site.page}/app.html`);
        wantUser(await checkonly(ctx), 'bob', 'login({checkonly: true}) in a new tab of the page');
      } finally {
        await d.closeWindow(w);
      }
      await logout(ctx);
    },
  },
  {
    name: 'subid-tabs',
    title: 'getSubID() per tab: a second tab gets its own sub-ID and login',
    async run(ctx) {
      const {d} = ctx;
      await fresh(ctx);
      const subA = await d.eval('IPCortex.PBX.Auth.getSubID()');
      if (typeof subA !== 'string' || subA === '') fail(`getSubID() in tab A: want a string, got ${show(subA)}`);
      await login(ctx, 'alice', 'login as alice in tab A under its sub-ID');
      const w = await d.newWindow();
      try {
        await d.open(`${ctx.site.page}/app.html`);
        const subB = await d.eval('IPCortex.PBX.Auth.getSubID()');
        if (typeof subB !== 'string' || subB === '' || subB === subA) {
          fail(`getSubID() in tab B: want a string other than tab A's ${subA}, got ${show(subB)}`);
        }
        await login(ctx, 'bob', 'login as bob in tab B under its sub-ID');
        wantUser(await checkonly(ctx), 'bob', 'login({checkonly: true}) in tab B');

        await d.use(d.main);
        wantUser(await checkonly(ctx), 'alice', 'login({checkonly: true}) in tab A after tab B logged in as bob');
        await d.reload();
        const again = await d.eval('IPCortex.PBX.Auth.getSubID()');
        if (again !== subA) fail(`getSubID() after a reload of tab A: want ${subA}, got ${show(again)}`);
        wantUser(await checkonly(ctx), 'alice', 'login({checkonly: true}) after a reload of tab A');
        await logout(ctx, 'logout() in tab A');

        await d.use(w);
        wantUser(await checkonly(ctx), 'bob', 'login({checkonly: true}) in tab B after tab A logged out');
        await logout(ctx, 'logout() in tab B');
      } finally {
        await d.closeWindow(w);
      }
    },
  },
  {
    name: 'overlay',
    title: 'login() with no credentials: the overlay, filled in by the test',
    async run(ctx) {
      const {d} = ctx;
      await fresh(ctx);
      await d.eval('(T.rec("overlay", function () { return IPCortex.PBX.Auth.login(); }), true)');
      const src = await ctx.poll(`(document.querySelector('${OVERLAY_FRAME}') || {}).src`, 'the overlay\'s iframe');
      if (!src.startsWith(`${ctx.site.pbx}/api/login.html`)) fail(`the overlay's iframe: want ${ctx.site.pbx}/api/login.html, got ${src}`);
      await d.inFrame(OVERLAY_FRAME, async (f) => {
        await f.waitVisible('#username');
        // #submit is enabled once the login page's script handles the form.
        const ready = Date.now() + ctx.stepMs;
        while (await f.eval('document.querySelector("#submit").disabled')) {
          if (Date.now() > ready) fail('the overlay\'s #submit stayed disabled: its script did not start');
          await new Promise((r) => setTimeout(r, 100));
        }
        await fill(ctx, f, {'#username': 'alice', '#password': 'not-her-password'});
        await f.click('#submit');
        let status = '';
        const deadline = Date.now() + ctx.stepMs;
        while (!/wrong/i.test(status)) {
          if (Date.now() > deadline) fail(`after a wrong password the overlay's #status says ${show(status)}, want "Wrong username or password"`);
          status = await f.eval('document.querySelector("#status") ? document.querySelector("#status").textContent : ""');
          if (!/wrong/i.test(status)) await new Promise((r) => setTimeout(r, 100));
        }
        await fill(ctx, f, {'#username': 'alice', '#password': 'wonderland'});
        await f.click('#submit');
      });
      const o = await ctx.poll('T.results.overlay.state !== "pending" && T.results.overlay', 'the overlay login to settle');
      wantUser(o, 'alice', 'login() through the overlay');
      await ctx.poll('!document.querySelector("pbxauth-login, ' + OVERLAY_FRAME.replace(/"/g, '\\"') + '")', 'the overlay to close after the login');
      await logout(ctx);
    },
  },
  {
    name: 'feed-logout-elsewhere',
    title: 'startFeed(cb, errCB), then a logout in another tab: errCB(2), properties cleared',
    async run(ctx) {
      const {d, site} = ctx;
      await fresh(ctx);
      await login(ctx, 'alice', 'login as alice in tab A');
      const o = await call(ctx, 'return IPCortex.PBX.startFeed(T.feedUp, T.feedErr);');
      if (o.state !== 'resolved') fail(`startFeed(cb, errCB) in tab A: want it up, got ${show(o)}`);
      await ctx.poll('T.feed.ups > 0', 'the feed\'s data callback');
      const sockets = await d.eval('T.sockets');
      const want = site.scheme === 'https' ? 'wss:' : 'ws:';
      if (sockets.length === 0 || !sockets.every((u) => u.startsWith(want))) {
        fail(`the feed's WebSocket: want ${want} URLs, got ${show(sockets)}`);
      }
      const w = await d.newWindow();
      try {
        await d.open(`${site.page}/app.html`);
        wantUser(await checkonly(ctx), 'alice', 'login({checkonly: true}) in tab B (no sub-ID: the tabs share the login)');
        // Which way the browser let tab B in: the PBX's cookie (when the
        // engine sends a cross-site cookie), or the saved token (a token
        // login keeps a new session in sessionStorage). Either is right.
        ctx.note(`tab B was let in by ${(await d.eval('T.sessionValue()')) ? 'the saved token' : 'the PBX\'s session cookie'}`);
        await logout(ctx, 'logout() in tab B');
      } finally {
        await d.closeWindow(w);
      }
      const ev = await ctx.poll('T.feed.events.filter(function (e) { return e.kind === "err"; })[0]', 'tab A\'s errCB after tab B logged out');
      if (ev.errno !== 2) fail(`tab A's first errCB: want errno 2 (logged out), got ${show(ev)}`);
      if (ev.idType !== 'null') fail(`IPCortex.PBX.Auth.id must be null when errCB(2) runs, got ${show(ev)}`);
      wantLoggedOut(await d.eval('T.props()'), 'tab A after errCB(2)');
    },
  },
  {
    name: 'tabs-in-step',
    title: 'a login and a logout in one tab: another tab of the page follows, without a feed; a tab of another origin is not told',
    async run(ctx) {
      const {d, site} = ctx;
      // listen records the tab's pbxauthchange events (with the page's
      // clock) and the client's debug steps.
      const listen = '(T.changes = [], window.addEventListener("pbxauthchange", function (ev) {' +
        ' T.changes.push({uname: ev.detail ? ev.detail.uname : null, t: Date.now()}); }),' +
        ' T.dbg = [], IPCortex.PBX.Auth.debug = function (m) { T.dbg.push(m); }, true)';
      const heard = 'T.dbg.some(function (m) { return m.indexOf("another tab") >= 0; })';
      const tabState = '({id: IPCortex.PBX.Auth.id, changes: T.changes, debug: T.dbg.slice(-12)})';
      await fresh(ctx);
      await d.eval(listen);
      const b = await d.newWindow();
      const other = await d.newWindow();
      try {
        await d.use(b);
        await d.open(`${site.page}/app.html`);
        await d.eval(listen);
        wantCode(await checkonly(ctx), 'rejected', 'login_required', 'tab B before any login');
        await d.use(other);
        // The page server also answers on 127.0.0.1: another origin (and
        // site) than the page's localhost, with the same PBX.
        await d.open(`${site.page.replace('//localhost:', '//127.0.0.1:')}/app.html`);
        await d.eval(listen);

        await d.use(d.main);
        const o = await call(ctx, 'return IPCortex.PBX.Auth.login({username: "alice", password: "wonderland"}).then(function () { T.loggedInAt = Date.now(); });');
        if (o.state !== 'resolved') fail(`login as alice in tab A: ${show(o)}`);
        const loggedInAt = await d.eval('T.loggedInAt');
        await d.use(b);
        const seen = await ctx.poll('IPCortex.PBX.Auth.id === 101 && T.changes[0]', 'tab B to follow tab A\'s login', tabState);
        if (seen.uname !== 'alice') fail(`tab B's first pbxauthchange: want alice, got ${show(seen)}`);
        ctx.note(`tab B followed the login ${seen.t - loggedInAt} ms after tab A's login() resolved`);

        await d.use(d.main);
        const lo = await call(ctx, 'return IPCortex.PBX.Auth.logout().then(function () { T.loggedOutAt = Date.now(); });');
        if (lo.state !== 'resolved') fail(`logout() in tab A: ${show(lo)}`);
        const loggedOutAt = await d.eval('T.loggedOutAt');
        await d.use(b);
        const gone = await ctx.poll('IPCortex.PBX.Auth.id === null && T.changes[1]', 'tab B to follow tab A\'s logout', tabState);
        if (gone.uname !== null) fail(`tab B's second pbxauthchange: want null (logged out), got ${show(gone)}`);
        ctx.note(`tab B followed the logout ${gone.t - loggedOutAt} ms after tab A's logout() resolved`);
        wantLoggedOut(await d.eval('T.props()'), 'tab B after tab A logged out');
        if (!(await d.eval(heard))) fail('tab B\'s debug log does not say that it heard another tab');
        wantCode(await checkonly(ctx), 'rejected', 'login_required', 'tab B after tab A logged out, asking the PBX');

        await d.use(other);
        if (await d.eval(heard)) fail(`a tab of another origin heard the page's tabs: ${show(await d.eval('T.dbg'))}`);
        const changes = await d.eval('T.changes');
        if (changes.length !== 0) fail(`a tab of another origin got pbxauthchange events: ${show(changes)}`);
      } finally {
        await d.closeWindow(other);
        await d.closeWindow(b);
      }
    },
  },
  {
    name: 'demo',
    title: 'the PBX\'s demo page: its form login, its overlay button and its logout',
    async run(ctx) {
      const {d, site} = ctx;
      await d.open(`${site.pbx}/`);
      await d.eval('(localStorage.clear(), sessionStorage.clear(), true)');
      await d.reload();
      const prop = (id) => `document.getElementById(${JSON.stringify(id)}).textContent`;
      await ctx.poll(`${prop('prop-id')} === "null" && ${prop('status')} === "Logged out"`, 'the demo page to show nobody logged in');
      await d.eval('(document.getElementById("username").value = "alice", document.getElementById("password").value = "wonderland",' +
        ' document.getElementById("login").click(), true)');
      await ctx.poll(`${prop('prop-id')} === "101" && ${prop('prop-uname')} === "alice"`, 'the demo page to show alice after its form login');
      await d.eval('(document.getElementById("logout").click(), true)');
      await ctx.poll(`${prop('prop-id')} === "null"`, 'the demo page to show nobody after its Log out');
      await d.eval('(document.getElementById("overlay").click(), true)');
      await d.inFrame(OVERLAY_FRAME, async (f) => {
        await f.waitVisible('#username');
        const ready = Date.now() + ctx.stepMs;
        while (await f.eval('document.querySelector("#submit").disabled')) {
          if (Date.now() > ready) fail('the overlay\'s #submit stayed disabled');
          await new Promise((r) => setTimeout(r, 100));
        }
        await fill(ctx, f, {'#username': 'bob', '#password': 'builder'});
        await f.click('#submit');
      });
      // On a timeout, say where it stopped: the page is the PBX's origin,
      // so the overlay's document is readable here.
      const where = '(function () { var f = document.querySelector(' + JSON.stringify(OVERLAY_FRAME) + '), doc = f && f.contentDocument;' +
        ' return {status: ' + prop('status') + ', result: ' + prop('login-result') + ', overlay: !!f,' +
        ' frameStatus: doc && doc.querySelector("#status") && doc.querySelector("#status").textContent,' +
        ' typed: doc && doc.querySelector("#username") && doc.querySelector("#username").value,' +
        ' debug: ' + prop('debug-log') + '.slice(-1500)}; })()';
      await ctx.poll(`${prop('prop-id')} === "102" && ${prop('prop-uname')} === "bob"`, 'the demo page to show bob after its overlay login', where);
      const wide = await d.eval('document.documentElement.scrollWidth <= window.innerWidth');
      if (!wide) ctx.note('the demo page scrolls sideways at this window size');
      await d.eval('(document.getElementById("logout").click(), true)');
      await ctx.poll(`${prop('prop-id')} === "null"`, 'the demo page to show nobody after its second Log out');
      if (site.scheme === 'https') {
        const plain = await d.eval('[location.href].concat(performance.getEntriesByType("resource").map(function (e) { return e.name; }))' +
          '.filter(function (u) { return !/^(https|wss|data|blob):/.test(u); })');
        if (plain.length) fail(`the demo page over https loaded over plain http: ${show(plain)}`);
      }
      // The checks after each flow read the harness's own page.
      await d.open(`${site.page}/app.html`);
    },
  },
  {
    name: 'logout',
    title: 'logout() clears the properties',
    async run(ctx) {
      const {d} = ctx;
      await fresh(ctx);
      await login(ctx, 'carol');
      const o = await logout(ctx);
      wantLoggedOut(o.props, 'after logout()');
      wantLoggedOut(await d.eval('T.props()'), 'after logout(), read again');
      const c = await checkonly(ctx);
      wantCode(c, 'rejected', 'login_required', 'login({checkonly: true}) after logout()');
      const keys = await d.eval('T.storageKeys()');
      if (keys.local.some((k) => k.startsWith('IPCortex.PBX.Auth.token:'))) fail(`after logout() no token may stay in localStorage, got ${show(keys)}`);
      await d.reload();
      wantCode(await checkonly(ctx), 'rejected', 'login_required', 'login({checkonly: true}) after logout() and a reload');
    },
  },
  {
    name: 'wrong-password',
    title: 'a wrong password rejects with code auth_failed',
    async run(ctx) {
      const {d} = ctx;
      await fresh(ctx);
      const o = await call(ctx, 'return IPCortex.PBX.Auth.login({username: "carol", password: "not-her-password"});');
      wantCode(o, 'rejected', 'auth_failed', 'login with a wrong password');
      if (!o.message) fail(`the rejection must say what happened, got ${show(o)}`);
      wantLoggedOut(o.props, 'after a wrong password');
      const cb = await call(ctx, 'var A = IPCortex.PBX.Auth; return new Promise(function (r) { A.login({username: "carol", password: "nope"}, function (ok, msg) { r([ok, typeof msg]); }); });');
      if (cb.state !== 'resolved' || cb.value[0] !== false || cb.value[1] !== 'string') {
        fail(`login(options, cb) with a wrong password: want cb(false, message), got ${show(cb)}`);
      }
      await login(ctx, 'carol', 'the right password after two wrong ones');
      await logout(ctx);
    },
  },
];
