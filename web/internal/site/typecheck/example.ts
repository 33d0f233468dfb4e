// A page written against the definitions in ../api.d.ts, compiled by
// `make typecheck` with tsc --strict: if a declaration drifts from how pages
// use the API, this stops compiling.

const A = IPCortex.PBX.Auth;
A.setHost('https://pbx.example.com', {backend: 'ping'});
A.setWSHost('wss://pbx.example.com');
A.debug = (msg: string) => console.log(msg);
A.debug = true;

async function page(): Promise<void> {
  await A.login({username: 'alice', password: 'wonderland', application: 'longLogin',
    tokenCB: (tokens) => { for (const t in tokens) { const ms: number = tokens[t]; console.log(ms); } }});
  await A.login({token: ['saved'], nodom: true});
  await A.login((ok: boolean, msg: string) => console.log(ok, msg));
  await A.login('bob', 'builder', false, (ok) => console.log(ok));
  const id: number | null = A.id;
  const uname: string | null = A.uname;
  const info = A.getUserInfo();
  const perm: 'yes' | 'company' | undefined = info.perms['admin'];
  console.log(id, uname, perm, A.name, A.company, A.getSubID());
  const pw: string | undefined = await A.rtcReset(true);
  await A.setCompany('acme');
  await A.exit({logout: true});
  await A.logout();
  await IPCortex.PBX.startFeed((): void => {}, (errno, text) => {
    const e: 1 | 2 | 3 | 91 | 92 | 100 = errno;
    console.log(e, text);
  }, {pingtime: 60, maxWSRetryTime: null, device: true});
  await A.login().then(IPCortex.PBX.startFeed);
  IPCortex.PBX.stopFeed();
  IPCortex.PBX.pauseFeed();
  IPCortex.PBX.stopPoll();
  IPCortex.PBX.httpStopReuse();
  console.log(pw);
}

page().catch((e: IPCortex.PBX.AuthError) => {
  const code: IPCortex.PBX.AuthErrorCode = e.code;
  console.log(code, e.message);
});

window.addEventListener('pbxauthchange', (ev) => {
  const who: string | null = ev.detail ? ev.detail.uname : null;
  const id: number | undefined = ev.detail?.id;
  console.log(who, id);
});
