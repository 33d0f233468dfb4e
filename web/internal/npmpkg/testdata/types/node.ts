// Compiled by TestTypes (npm_test.go) against the installed package, as
// Node.js resolves it (the "node" condition: node.d.ts).
import { Auth, PBX, ready, configure } from 'pbxauth';
import type { StorageLike } from 'pbxauth';

class FakeSocket {
  constructor(readonly url: string) {}
}
const store = new Map<string, string>();
const storage: StorageLike = {
  getItem: (k) => store.get(k) ?? null,
  setItem: (k, v) => { store.set(k, v); },
  removeItem: (k) => { store.delete(k); },
};
configure({ WebSocket: FakeSocket, storage });
configure({ storage: null });

await ready;
Auth.setHost('https://pbx.example');
await Auth.login({ username: 'alice', password: 'wonderland' });
const id: number | null = Auth.id;
await PBX.startFeed({ maxWSRetryTime: 0 });
console.log(id);
