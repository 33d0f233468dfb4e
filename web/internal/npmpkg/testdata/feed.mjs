// Run by TestNodeFeed (node_test.go) with node, in a scratch project where
// the packed package and ws are installed: `import 'pbxauth'` resolves to
// the package's Node.js entry. It logs in as alice, starts the live feed,
// prints the login's token, and waits until the feed reports the logout that
// the Go test makes with that token from another session. Then it gives a
// store, and logs in again from the token kept there.
import { Auth, PBX, ready, configure } from 'pbxauth';
import WebSocket from 'ws';

const pbx = process.argv[2];
const say = (line) => console.log(line);

try {
  configure({ storage: {} });
} catch (e) {
  say(`configure: ${e.name} ${e.code}`);
}
configure({ WebSocket });
await ready;
say('ready');
Auth.setHost(pbx);

// No page, no overlay: a login without credentials is refused.
await Auth.login().then(() => say('login(): resolved'), (e) => say(`login(): ${e.code}`));

let tokens = {};
await Auth.login({ username: 'alice', password: 'wonderland', tokenCB: (t) => { tokens = t; } });
say(`id ${Auth.id} ${typeof Auth.id} ${Auth.uname}`);

let loggedOut;
const gone = new Promise((resolve) => { loggedOut = resolve; });
await PBX.startFeed(() => {}, (errno) => {
  say(`errCB ${errno} id ${Auth.id}`);
  if (errno === 2) loggedOut();
});
say('feed up');
say(`tokens ${Object.keys(tokens).length}`);
say(`token ${Object.keys(tokens)[0]}`); // the Go test logs out with it
await gone;
say(`after: id ${Auth.id} user ${JSON.stringify(Auth.getUserInfo().login)}`);

// With a store, the session and the token are kept there.
const kept = new Map();
configure({
  storage: {
    getItem: (k) => (kept.has(k) ? kept.get(k) : null),
    setItem: (k, v) => { kept.set(k, v); },
    removeItem: (k) => { kept.delete(k); },
  },
});
await Auth.login({ username: 'alice', password: 'wonderland' });
const kinds = () => [...kept.keys()].map((k) => k.split(':')[0]).sort().join(' ');
say(`kept: ${kinds()}`);
for (const k of kept.keys()) if (k.startsWith('IPCortex.PBX.Auth.session:')) kept.delete(k); // as a new run
await Auth.login();
say(`from the kept token: id ${Auth.id}`);
await Auth.logout();
say(`after logout, kept: ${kinds() || 'nothing'}`);
process.exit(0);
