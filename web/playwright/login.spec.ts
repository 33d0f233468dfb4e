// A page on another site than the PBX logs in through the PBX's login
// overlay, as a user would, and logs out: a model for your own tests.
/// <reference path="../internal/site/api.d.ts" />
import { test, expect } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// Your application's page, which loads the module from the PBX that
// playwright.config.ts started. In your project your own dev server serves
// it (Playwright's webServer and baseURL); here a tiny server does.
const appPage = () => `<!doctype html>
<title>app</title>
<script src="${process.env.PBX_URL}/api/api.js"></script>`;

let app: Server;
let appURL: string;

test.beforeAll(async () => {
  app = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(appPage());
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  // http://localhost is another site than the PBX on http://127.0.0.1, as
  // a real page against a real PBX is, and the PBX trusts it: its default
  // -origins are the loopback pages.
  appURL = `http://localhost:${(app.address() as AddressInfo).port}/`;
});

test.afterAll(async () => {
  await new Promise((resolve) => app.close(resolve));
});

test('log in through the overlay, then log out', async ({ page }) => {
  await page.goto(appURL);

  // login() with no credentials shows the PBX's login page in an iframe over
  // the page: iframe[name="pbxauth-login"], a child of the
  // <pbxauth-login data-pbxauth-overlay> element. Its form is the PBX's
  // page, labelled "Username", "Password" and "Log in".
  const login = page.evaluate(() => IPCortex.PBX.Auth.login());
  const form = page.frameLocator('iframe[name="pbxauth-login"]');

  await form.getByLabel('Username').fill('alice');
  await form.getByLabel('Password').fill('wonderland');
  await form.getByRole('button', { name: 'Log in' }).click();

  // login() resolves once the overlay has logged in; then the properties
  // are the user's.
  await login;
  expect(await page.evaluate(() => IPCortex.PBX.Auth.id)).toBe(101);
  expect(await page.evaluate(() => IPCortex.PBX.Auth.uname)).toBe('alice');

  await page.evaluate(() => IPCortex.PBX.Auth.logout());
  expect(await page.evaluate(() => IPCortex.PBX.Auth.id)).toBeNull();
});
