// Compiled by TestTypes (npm_test.go) against the installed package, as a
// bundler resolves it (the ES module entry's index.d.ts).
import { Auth, PBX, ready } from 'pbxauth';

async function main(host: string): Promise<number | null> {
  await ready;
  Auth.setHost(host, { backend: 'ipcortex' });
  const opts: PBX.LoginOptions = { username: 'alice', password: 'wonderland', nodom: true };
  await Auth.login(opts);
  await PBX.startFeed(() => {}, (errno: PBX.FeedErrno, text: string) => console.log(errno, text));
  const info: PBX.UserInfo = Auth.getUserInfo();
  console.log(info.login, Auth.getSubID().length);
  return Auth.id;
}
main('https://pbx.example').catch((e: PBX.AuthError) => console.log(e.code));
