// The app that bundlers_test.go builds with webpack and opens from another
// site than the PBX, named by ?pbx= (the same, but for the bundler's name, in
// each app of testdata/bundlers).
import { Auth, PBX, ready } from 'pbxauth';

window.result = (async () => {
  const out = {};
  out.beforeReady = Auth.id;
  await ready;
  out.global = typeof globalThis.IPCortex;
  out.startFeed = typeof PBX.startFeed;
  Auth.setHost(new URLSearchParams(location.search).get('pbx'));
  await Auth.login({ username: 'alice', password: 'wonderland' });
  out.id = Auth.id;
  out.uname = Auth.uname;
  await Auth.logout();
  out.afterLogout = Auth.id;
  return out;
})().catch((e) => ({ error: `${e.code}: ${e.message}` }));
