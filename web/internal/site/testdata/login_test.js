// Runs web/internal/site/login.js, the login overlay's script, against a small fake
// DOM in Node's vm, and checks its side of the overlay protocol
// (web/PROTOCOL.md, "The login overlay"; the Go package core/overlay defines
// it). TestLoginScriptBehaviour in site_test.go runs it:
// node testdata/login_test.js login.js
// It prints "ok" and exits 0, or prints the failures and exits 1. Timers are
// fake: the 20 s deadline is fired by hand, nothing waits. The options the
// page must take and refuse, and the messages it posts, are those of
// core/overlay/testdata/login_page.json, which core/overlay's tests check
// the Go side against.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const code = fs.readFileSync(process.argv[2], 'utf8');
const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../../core/overlay/testdata/login_page.json'), 'utf8'));
const failures = [];
function check(cond, what) { if (!cond) failures.push(what); }
const flush = () => new Promise((r) => setImmediate(r));

function element(id) {
  const listeners = {};
  const attrs = {};
  return {
    id, value: '', textContent: '', disabled: false, focused: false,
    addEventListener(type, fn) { (listeners[type] = listeners[type] || []).push(fn); },
    dispatch(type, ev) { (listeners[type] || []).forEach((fn) => fn(ev)); },
    setAttribute(k, v) { attrs[k] = String(v); },
    removeAttribute(k) { delete attrs[k]; },
    getAttribute(k) { return k in attrs ? attrs[k] : null; },
    focus() { page.focused = id; },
  };
}

let page; // the current page's state, for element.focus
const allPosted = []; // every message of every page

// load runs the script in a new page at #hash inside a parent window (or
// not framed at all), with fetch answered by the test.
function load(hash, opts) {
  opts = opts || {};
  const els = {};
  for (const id of ['login', 'username', 'password', 'submit', 'close', 'status']) els[id] = element(id);
  const docListeners = {};
  const winListeners = {};
  const posted = [];
  const fetches = [];
  const timers = [];
  const parent = { postMessage(msg, target) { const m = { msg: JSON.parse(JSON.stringify(msg)), target }; posted.push(m); allPosted.push(m); } };
  const win = {
    addEventListener(type, fn) { (winListeners[type] = winListeners[type] || []).push(fn); },
  };
  win.parent = opts.unframed ? win : parent;
  const ctx = {
    window: win,
    document: {
      body: { id: 'body' },
      get activeElement() { return page.focused ? els[page.focused] : this.body; },
      getElementById: (id) => els[id],
      addEventListener(type, fn) { (docListeners[type] = docListeners[type] || []).push(fn); },
    },
    location: { hash },
    URL, AbortController, JSON,
    setTimeout(fn, ms) { timers.push({ fn, ms, live: true }); return timers.length; },
    clearTimeout(n) { if (timers[n - 1]) timers[n - 1].live = false; },
    fetch(url, init) {
      return new Promise((resolve, reject) => {
        init.signal && init.signal.addEventListener('abort', () => reject(new Error('aborted')));
        fetches.push({ url, init, body: JSON.parse(init.body), resolve, reject });
      });
    },
  };
  page = { els, posted, fetches, timers, focused: null, parent, win };
  vm.createContext(ctx);
  vm.runInContext(code, ctx);
  page.message = (data, from) => (winListeners.message || []).forEach((fn) => fn(Object.assign({ data }, from)));
  page.key = (key) => (docListeners.keydown || []).forEach((fn) => fn({ key, preventDefault() {} }));
  page.submit = (user, pass) => {
    els.username.value = user;
    els.password.value = pass;
    els.login.dispatch('submit', { preventDefault() {} });
  };
  page.reply = async (status, body) => {
    const f = fetches[fetches.length - 1];
    f.resolve({ status, json: () => (body === undefined ? Promise.reject(new Error('not JSON')) : Promise.resolve(body)) });
    await flush(); await flush();
  };
  return page;
}

const APP = 'https://app.example';
const fromParent = () => ({ source: page.parent, origin: APP });
const options = (o) => Object.assign({ pbxauth: 'options', subid: '', notoken: false, application: '', origin: '' }, o);
const hash = '#parent=' + encodeURIComponent(APP);
const OK = { result: 'success', user: { id: 101, login: 'alice', session: 'S1' }, token: { value: 'T1', expires: 1767225600000 } };
const WRONG = { result: 'fail', error: { code: 'auth_failed', message: 'wrong username or password' } };

async function main() {
  // Not framed, or no usable parent: nothing is posted, the form is off.
  for (const [h, unframed] of [['', false], ['#parent=', false], ['#parent=' + encodeURIComponent(APP + '/'), false],
    ['#parent=' + encodeURIComponent('null'), false], ['#parent=javascript%3Aalert(1)', false], ['#parent=%E0%A4%A', false],
    [hash, true]]) {
    const p = load(h, { unframed });
    check(p.posted.length === 0, `${h} (unframed ${unframed}): posted ${JSON.stringify(p.posted)}`);
    check(p.els.status.textContent !== '' && p.els.submit.disabled && p.els.password.disabled, `${h}: no error shown or form enabled`);
  }

  // ready goes to the exact parent origin; the options focus the username.
  let p = load(hash);
  p.message(options(), fromParent());
  check(p.focused === 'username', 'focus after the options: ' + p.focused);
  p.els.password.focus();
  p.message(options(), fromParent());
  check(p.focused === 'password', 'options do not move focus the user placed: ' + p.focused);
  p = load(hash);
  check(p.posted.length === 1 && p.posted[0].msg.pbxauth === 'ready' && p.posted[0].target === APP, 'ready: ' + JSON.stringify(p.posted));
  p = load('#x=1&parent=' + encodeURIComponent('http://localhost:3000'));
  check(p.posted.length === 1 && p.posted[0].target === 'http://localhost:3000', 'parent after another hash field');

  // Options from elsewhere are ignored; submitting before the options waits for them.
  p = load(hash);
  p.message(options({ subid: 'tab1' }), { source: {}, origin: APP });
  p.message(options({ subid: 'tab1' }), { source: p.parent, origin: 'https://evil.example' });
  p.message({ pbxauth: 'result', session: 'x' }, fromParent());
  p.submit('alice', 'wonderland');
  check(p.fetches.length === 0, 'a login before the options arrived');
  p.message(options({ application: 'forever' }), fromParent());
  check(p.fetches.length === 0 && /options/.test(p.els.status.textContent), 'bad options: ' + p.els.status.textContent);
  p.message(options({ subid: 'tab1', notoken: false, application: 'longLogin' }), fromParent());
  check(p.fetches.length === 1, 'the waiting login is sent once the options arrive');
  let f = p.fetches[0];
  check(f.url === '/rest/auth/?subid=tab1', 'url ' + f.url);
  check(f.init.method === 'POST' && f.init.credentials === 'omit' && f.init.headers['Content-Type'] === 'application/json', 'init ' + JSON.stringify(f.init));
  check(f.init.signal && typeof f.init.signal.aborted === 'boolean', 'a deadline signal');
  check(JSON.stringify(f.body) === JSON.stringify({ auth: { type: 'auth', username: 'alice', password: 'wonderland', notoken: false, application: 'longLogin', origin: APP } }),
    'body ' + JSON.stringify(f.body));
  check(p.timers.some((t) => t.live && t.ms === 20000), 'a 20 s deadline');
  check(p.els.submit.disabled, 'no second login while one is under way');
  await p.reply(200, OK);
  const last = p.posted[p.posted.length - 1];
  check(JSON.stringify(last) === JSON.stringify({ msg: { pbxauth: 'result', session: 'S1', token: { value: 'T1', expires: 1767225600000 } }, target: APP }),
    'result ' + JSON.stringify(last));
  check(p.els.password.value === '' && !p.els.submit.disabled, 'the password is cleared');
  check(!p.timers.some((t) => t.live), 'the deadline is cleared');

  // The options' origin wins over the parent's; no token in the reply posts null.
  p = load(hash);
  p.message(options({ origin: 'https://other.example', notoken: true }), fromParent());
  p.submit('bob', 'builder');
  f = p.fetches[0];
  check(f.url === '/rest/auth/' && f.body.auth.origin === 'https://other.example' && f.body.auth.notoken === true, 'origin option ' + JSON.stringify(f.body));
  await p.reply(200, { result: 'success', user: { session: 'S2' } });
  check(p.posted[1].msg.token === null, 'token null: ' + JSON.stringify(p.posted[1]));

  // Wrong passwords: shown, retried, the third ends it with "failed".
  p = load(hash);
  p.message(options(), fromParent());
  for (let i = 1; i <= 3; i++) {
    p.submit('alice', 'wrong-' + i);
    await p.reply(401, WRONG);
    check(p.els.status.textContent === 'Wrong username or password', `failure ${i}: ${p.els.status.textContent}`);
    check(p.els.password.value === '', `failure ${i}: the password stays`);
    const failed = p.posted.filter((m) => m.msg.pbxauth === 'failed');
    check(failed.length === (i === 3 ? 1 : 0), `failure ${i}: failed posted ${failed.length} times`);
    if (i < 3) check(p.focused === 'password', `failure ${i}: focus on ${p.focused}`);
  }
  const failed = p.posted.find((m) => m.msg.pbxauth === 'failed');
  check(failed && failed.target === APP && failed.msg.code === 'auth_failed' && failed.msg.message, 'failed ' + JSON.stringify(failed));
  p.submit('alice', 'wrong-4');
  check(p.fetches.length === 3, 'no login after the third failure');

  // Server and network errors are shown and not counted.
  p = load(hash);
  p.message(options(), fromParent());
  p.submit('alice', 'x');
  await p.reply(500, { result: 'fail', error: { code: 'internal', message: 'the server failed; its log says why' } });
  check(/its log says why/.test(p.els.status.textContent), 'server error: ' + p.els.status.textContent);
  p.submit('alice', 'x');
  await p.reply(502);
  check(/502/.test(p.els.status.textContent), 'not JSON: ' + p.els.status.textContent);
  p.submit('alice', 'x');
  p.fetches[2].reject(new TypeError('Failed to fetch'));
  await flush(); await flush();
  check(/cannot be reached/.test(p.els.status.textContent), 'network: ' + p.els.status.textContent);
  p.submit('alice', 'x');
  p.timers.filter((t) => t.live).forEach((t) => { t.live = false; t.fn(); });
  await flush(); await flush();
  check(/20 seconds/.test(p.els.status.textContent), 'timeout: ' + p.els.status.textContent);
  check(!p.els.submit.disabled, 'a retry is possible');
  check(!p.posted.some((m) => m.msg.pbxauth === 'failed'), 'errors are not failures');

  // Blank fields are not sent.
  p.submit('', 'x');
  p.submit('alice', '   ');
  check(p.fetches.length === 4, 'blank fields were sent');

  // Close and Escape.
  p = load(hash);
  p.els.close.dispatch('click', {});
  p.key('Escape');
  p.key('a');
  check(p.posted.filter((m) => m.msg.pbxauth === 'close' && m.target === APP).length === 2, 'close ' + JSON.stringify(p.posted));

  // The options core/overlay takes, the page takes; those it refuses, the page refuses.
  for (const o of vectors.options.accept) {
    p = load(hash);
    p.message(o, fromParent());
    p.submit('alice', 'wonderland');
    check(p.fetches.length === 1 && p.els.status.textContent === '', 'options not taken: ' + JSON.stringify(o) + ': ' + p.els.status.textContent);
    if (p.fetches.length === 1) {
      const a = p.fetches[0].body.auth;
      check(a.notoken === (o.notoken || false) && a.application === (o.application || '') && a.origin === (o.origin || APP),
        'options ' + JSON.stringify(o) + ' sent as ' + JSON.stringify(a));
      check(p.fetches[0].url === '/rest/auth/' + (o.subid ? '?subid=' + o.subid : ''), 'options ' + JSON.stringify(o) + ' url ' + p.fetches[0].url);
    }
  }
  for (const o of vectors.options.refuse) {
    p = load(hash);
    p.message(o, fromParent());
    check(/options/.test(p.els.status.textContent), 'options without a word: ' + JSON.stringify(o));
    p.submit('alice', 'wonderland');
    check(p.fetches.length === 0, 'options taken: ' + JSON.stringify(o));
  }

  // Every message the page posted is one that core/overlay takes, and every
  // one of those was posted.
  const canonical = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.keys(x).sort().reduce((o, key) => { o[key] = x[key]; return o; }, {}) : x));
  const known = new Set(vectors.fromPage.map(canonical));
  const seen = new Set(allPosted.map((m) => canonical(m.msg)));
  for (const m of seen) check(known.has(m), 'a message not in login_page.json: ' + m);
  for (const m of known) check(seen.has(m), 'a message of login_page.json never posted: ' + m);

  // Nothing ever posted carries a password.
  const all = JSON.stringify(allPosted);
  check(!/wonderland|builder|wrong-\d/.test(all), 'a password was posted: ' + all);
  check(allPosted.every((m) => m.target !== '*'), 'a message to any origin');

  if (failures.length) {
    console.log(failures.join('\n'));
    process.exit(1);
  }
  console.log('ok');
}

main().catch((e) => { console.log('harness error: ' + (e && e.stack || e)); process.exit(1); });
