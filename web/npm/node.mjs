// pbxauth for Node.js (20 or later): the same module and the same Auth object
// as in a page, without a page. It is the "node" condition of the package:
//
//   import { Auth, PBX, ready, configure } from 'pbxauth';
//   import WebSocket from 'ws';            // Node 22 has a global WebSocket
//   configure({ WebSocket });             // for PBX.startFeed
//   Auth.setHost('https://your-pbx');
//   await Auth.login({ username: 'alice', password: 'wonderland' });
//
// Without a page there is no login overlay (a login without credentials or
// tokens rejects with login_required) and no web storage: the session is
// kept in memory and sent explicitly in the Authorization header (Node has no
// cookies); tokens are not kept unless configure({storage}) gives a store,
// so pass them yourself: learn them from tokenCB, give them back with tokens,
// as a page's nodom login does. Requests go through Node's fetch. The Go
// runtime's timers (the hourly refresh while logged in, the feed) keep the
// process alive: log out, or end it with process.exit().
import './wasm_exec.js';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { load } from './loader.js';

const wasm = new URL('./pbxauth.wasm', import.meta.url);

let storage = null;       // configure({storage})
let WebSocketCtor = null; // configure({WebSocket})

// The sub-ID and the sessions, in memory unless the program gives a store.
const memory = new Map();
const inMemory = {
  getItem(k) { return memory.has(k) ? memory.get(k) : null; },
  setItem(k, v) { memory.set(String(k), String(v)); },
  removeItem(k) { memory.delete(String(k)); },
};
// Tokens: none kept unless the program gives a store.
const noTokens = { getItem() { return null; }, setItem() {}, removeItem() {} };

// What the module reads at each use (wasm/main.go): dom false, and these.
const boot = {
  dom: false,
  get storage() { return storage || inMemory; },
  get tokens() { return storage || noTokens; },
  get WebSocket() { return WebSocketCtor || globalThis.WebSocket; },
};

const api = load({
  root: {},
  compile: () => readFile(wasm).then((bytes) => WebAssembly.compile(bytes)),
  host: '',
  from: fileURLToPath(wasm),
  hint: 'reinstall the package',
  dom: false,
  storage: () => boot.storage,
  boot,
});

/** IPCortex.PBX.Auth. */
export const Auth = api.Auth;
/** IPCortex.PBX: Auth and the live feed (startFeed, stopFeed, ...). */
export const PBX = api.PBX;
/** Resolves once the module is ready; rejects if it cannot load. */
export const ready = api.ready;

function badOption(msg) {
  const e = new TypeError('IPCortex.PBX.Auth: configure: ' + msg);
  e.code = 'bad_option';
  return e;
}

/**
 * configure({storage, WebSocket}) sets what a page would have. storage: an
 * object with synchronous getItem, setItem and removeItem (as localStorage),
 * which then keeps the sub-ID, the session and the tokens, so that a later
 * run can log in again with login() alone; null goes back to memory. Give
 * it before logging in: what memory held is not moved. WebSocket: the
 * constructor the live feed uses (the ws package's in Node 20), read at each
 * connection; null goes back to globalThis.WebSocket. A key left out stays
 * as it was.
 */
export function configure(options) {
  if (options === null || typeof options !== 'object') {
    throw badOption('pass an object such as {storage, WebSocket}, not ' + (options === null ? 'null' : typeof options));
  }
  for (const key of Object.keys(options)) {
    if (key !== 'storage' && key !== 'WebSocket') throw badOption('unknown option ' + JSON.stringify(key) + ' (storage, WebSocket)');
  }
  if ('storage' in options) {
    const s = options.storage;
    if (s != null && !['getItem', 'setItem', 'removeItem'].every((m) => typeof s[m] === 'function')) {
      throw badOption('storage must have getItem, setItem and removeItem, as localStorage has');
    }
    storage = s || null;
  }
  if ('WebSocket' in options) {
    const w = options.WebSocket;
    if (w != null && typeof w !== 'function') throw badOption('WebSocket must be a constructor, such as the ws package\'s default export');
    WebSocketCtor = w || null;
  }
}
