// pbxauth: IPCortex.PBX.Auth as an ES module, for pages built with a bundler
// (Vite, webpack 5, esbuild, ...) or loaded with <script type="module">.
//
//   import { Auth, PBX, ready } from 'pbxauth';
//   Auth.setHost('https://your-pbx'); // no default host: the PBX did not serve this file
//   await Auth.login({ username: 'alice', password: 'wonderland' });
//
// The same object as the script tag's IPCortex.PBX.Auth, with the same
// behaviour (calls made before the module is ready are queued), but not put
// on globalThis. ready resolves once the module is ready and rejects if it
// cannot load. The module, pbxauth.wasm, is found beside this file through
// new URL(..., import.meta.url), which bundlers copy as an asset; the Go
// runtime glue, wasm_exec.js, is imported. loader.js is the script tag's
// loader, web/internal/site/loader.js, which `make build` exports as a module.
import './wasm_exec.js';
import { load } from './loader.js';

const wasm = new URL('./pbxauth.wasm', import.meta.url);

const api = load({
  root: {},
  module: wasm,
  host: '',
  from: wasm.href,
  hint: "check that pbxauth.wasm is served beside the package's index.js (a bundler copies it as an asset)",
  dom: true,
});

/** IPCortex.PBX.Auth. */
export const Auth = api.Auth;
/** IPCortex.PBX: Auth and the live feed (startFeed, stopFeed, ...). */
export const PBX = api.PBX;
/** Resolves once the module is ready; rejects if it cannot load. */
export const ready = api.ready;
