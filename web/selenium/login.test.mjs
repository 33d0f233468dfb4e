// A page on another site than the PBX logs in through the PBX's login
// overlay, as a user would, and logs out, in Chromium and in WebKit, with
// Selenium WebDriver and node's own test runner: a model for your own tests.
//
// run.sh starts the PBX and runs this file (`node --test`); to run it by
// hand, start the PBX (`go run ./web -addr 127.0.0.1:0`) and give its
// address in PBX_URL. BROWSERS picks the engines (default "chromium,webkit");
// CHROMIUM, CHROMEDRIVER, WEBKIT_WEBDRIVER and MINIBROWSER name other
// binaries than Debian's. WebKit's MiniBrowser needs a display: run it under
// `xvfb-run -a` (run.sh does).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, By, until } from 'selenium-webdriver';
import * as chrome from 'selenium-webdriver/chrome.js';
import { DriverService } from 'selenium-webdriver/remote/index.js';

// Nothing may be downloaded. Selenium Manager (which would fetch drivers and
// browsers) runs only when a driver's path is missing, and every driver
// below has one; offline it could not download even if it ran.
process.env.SE_OFFLINE = 'true';

const PBX_URL = process.env.PBX_URL;
const BROWSERS = (process.env.BROWSERS || 'chromium,webkit').split(',').map((s) => s.trim()).filter(Boolean);

// Every step has a time limit, so that a broken page fails the test instead
// of hanging it.
const DRIVER_START_MS = 30_000; // the driver, the browser and its session
const PAGE_LOAD_MS = 30_000; // driver.get, until the page's load event
const STEP_MS = 15_000; // the overlay to appear, the PBX to answer
const QUIT_MS = 10_000; // the browser to close
const TEST_MS = 120_000; // a whole test or hook, as a last resort

// The engines: how to start each one's WebDriver session. Debian's packages
// here; nothing comes from the network.
const engines = {
  // Chromium through chromedriver (packages chromium, chromium-driver).
  async chromium() {
    // A fresh profile each run, so nothing (cookies, storage, caches) is
    // left from an earlier one.
    const profile = await mkdtemp(join(tmpdir(), 'pbxauth-chromium-'));
    const options = new chrome.Options()
      .setChromeBinaryPath(process.env.CHROMIUM || '/usr/bin/chromium')
      .addArguments(
        '--headless',
        '--no-sandbox', // needed when the tests run as root (containers, CI)
        '--disable-gpu',
        // Without these Chromium keeps calling home (updates, sync, field
        // trials), which slows it down and fails on a closed network.
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
      );
    // An explicit driver path: Selenium Manager is not asked for one.
    const service = new chrome.ServiceBuilder(process.env.CHROMEDRIVER || '/usr/bin/chromedriver').build();
    try {
      const driver = await startSession(service, () => chrome.Driver.createSession(options, service));
      return { driver, service, profile };
    } catch (err) {
      await rm(profile, { recursive: true, force: true });
      throw err;
    }
  },

  // WebKit through WebKitGTK's own driver (packages webkit2gtk-driver and
  // its MiniBrowser). Selenium has no WebKitGTK module, so the test starts
  // WebKitWebDriver as a plain DriverService (which adds --port=P) and asks
  // it for a session with WebKitGTK's capabilities.
  async webkit() {
    if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
      throw new Error('WebKit\'s MiniBrowser needs a display: run the tests under `xvfb-run -a` (run.sh does)');
    }
    const service = new DriverService.Builder(process.env.WEBKIT_WEBDRIVER || '/usr/bin/WebKitWebDriver')
      .setLoopback(true)
      .build();
    const driver = await startSession(service, (url) =>
      new Builder()
        .usingServer(url)
        .disableEnvironmentOverrides() // SELENIUM_REMOTE_URL and the like must not redirect it
        .withCapabilities({
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': {
            binary: process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
            args: ['--automation'],
          },
        })
        .build(),
    );
    return { driver, service };
  },
};

// startSession starts the driver process and a session on it within
// DRIVER_START_MS; on failure or timeout it stops the driver again.
async function startSession(service, create) {
  try {
    const url = await service.start(DRIVER_START_MS);
    const driver = create(url);
    await within(DRIVER_START_MS, 'starting the browser', driver.getSession());
    await driver.manage().setTimeouts({ implicit: 0, pageLoad: PAGE_LOAD_MS, script: STEP_MS });
    return driver;
  } catch (err) {
    await service.kill();
    throw err;
  }
}

// within rejects when promise has not settled within ms.
function within(ms, what, promise) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// Your application's page, which loads the module from the PBX. In your
// project your own dev server serves it; here a tiny one does.
const appPage = () => `<!doctype html>
<title>app</title>
<script src="${PBX_URL}/api/api.js"></script>`;

let app;
let appURL;

if (!PBX_URL) {
  throw new Error('PBX_URL is not set: start the PBX (go run ./web -addr 127.0.0.1:0) and give its address, or use run.sh');
}
for (const name of BROWSERS) {
  if (!Object.hasOwn(engines, name)) throw new Error(`BROWSERS names "${name}"; known: ${Object.keys(engines).join(', ')}`);
}

before(async () => {
  app = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(appPage());
  });
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
  // http://localhost is another site than the PBX on http://127.0.0.1, as a
  // real page against a real PBX is, and the PBX trusts it: its default
  // -origins are the loopback pages.
  appURL = `http://localhost:${app.address().port}/`;
});

after(async () => {
  if (app) await new Promise((resolve) => app.close(resolve));
});

// startLogin calls IPCortex.PBX.Auth.login() with no credentials, which
// shows the PBX's login overlay. The call returns a Promise that settles only
// once the user has logged in (or closed the overlay), so the page keeps its
// outcome in window.pbxLoginResult, which the test reads later.
async function startLogin(driver) {
  await driver.executeScript(() => {
    window.pbxLoginResult = null;
    IPCortex.PBX.Auth.login().then(
      () => { window.pbxLoginResult = { ok: true }; },
      (err) => { window.pbxLoginResult = { ok: false, code: err.code, message: err.message }; },
    );
  });
}

// enterOverlay switches the driver into the overlay's form.
//
// The overlay is the PBX's own login page (/api/login.html) in an iframe, so
// the password is typed into a page of the PBX's origin and never reaches
// your application's page. That is another origin than your page, so your
// page's scripts cannot reach into it, and WebDriver reaches it the standard
// way: find the iframe, switch to it, and find the form's elements there.
// The iframe is iframe[name="pbxauth-login"], a child of the
// <pbxauth-login data-pbxauth-overlay> element in document.body. Its form
// has #username, #password, #submit ("Log in"), #close and #status: the
// README promises these hooks across versions.
async function enterOverlay(driver) {
  const frame = await driver.wait(
    until.elementLocated(By.css('iframe[name="pbxauth-login"]')),
    STEP_MS,
    'the login overlay did not appear',
  );
  await driver.switchTo().frame(frame);
  // The iframe may still be loading its page: wait for the form.
  const username = await driver.wait(until.elementLocated(By.id('username')), STEP_MS, 'the overlay has no login form');
  await driver.wait(until.elementIsVisible(username), STEP_MS, 'the login form is not visible');
  // #submit is enabled once the login page's script handles the form.
  await driver.wait(until.elementIsEnabled(await driver.findElement(By.id('submit'))), STEP_MS, 'the login form did not become ready');
}

// typeCredentials fills the form and submits it; the driver is in the overlay.
//
// Click a field before typing into it, as a user does. sendKeys focuses the
// field from script, and WebKit lets a frame of another origin than the page
// take the focus only after the user has interacted with it: without the
// click WebKitWebDriver answers "Element is not focusable" (so does clear()).
// Chromium does not mind either way.
async function typeCredentials(driver, username, password) {
  for (const [id, text] of [['username', username], ['password', password]]) {
    const field = await driver.findElement(By.id(id));
    await field.click();
    await field.sendKeys(text);
  }
  await driver.findElement(By.id('submit')).click();
}

// overlayStatus reads the message in the overlay's #status, from the page.
async function overlayStatus(driver) {
  try {
    await driver.switchTo().frame(await driver.findElement(By.css('iframe[name="pbxauth-login"]')));
    return await driver.findElement(By.id('status')).getText();
  } catch {
    return '(no overlay)';
  } finally {
    await driver.switchTo().defaultContent();
  }
}

// loginResult waits, from the page, until login() has settled and returns
// its outcome. If it does not settle, the overlay usually says why.
async function loginResult(driver) {
  try {
    return await driver.wait(() => driver.executeScript(() => window.pbxLoginResult), STEP_MS);
  } catch (err) {
    if (err.name !== 'TimeoutError') throw err;
    throw new Error(`login() did not settle within ${STEP_MS / 1000} s; the overlay says: "${await overlayStatus(driver)}"`);
  }
}

// The session's identity, as the page sees it.
const whoAmI = (driver) => driver.executeScript(() => ({ id: IPCortex.PBX.Auth.id, uname: IPCortex.PBX.Auth.uname }));

for (const name of BROWSERS) {
  describe(name, { timeout: TEST_MS }, () => {
    let session;

    before(async () => {
      session = await engines[name]();
    }, { timeout: TEST_MS });

    // Always quit: a test that failed half way must not leave a browser or
    // a driver running.
    after(async () => {
      if (!session) return;
      try {
        await within(QUIT_MS, 'closing the browser', session.driver.quit());
      } finally {
        await session.service.kill();
        if (session.profile) await rm(session.profile, { recursive: true, force: true });
      }
    }, { timeout: TEST_MS });

    it('logs in through the overlay, then logs out', { timeout: TEST_MS }, async () => {
      const { driver } = session;
      await driver.get(appURL);
      await startLogin(driver);

      await enterOverlay(driver);
      await typeCredentials(driver, 'alice', 'wonderland');
      // Back to your page: once logged in, the overlay removes its iframe,
      // and a driver still switched into it would have nothing to talk to.
      await driver.switchTo().defaultContent();

      // login() resolves once the overlay has logged in; then the properties
      // are the user's, and the overlay is gone.
      assert.deepEqual(await loginResult(driver), { ok: true });
      assert.deepEqual(await whoAmI(driver), { id: 101, uname: 'alice' });
      await driver.wait(
        async () => (await driver.findElements(By.css('pbxauth-login'))).length === 0,
        STEP_MS,
        'the overlay is still there after the login',
      );

      // logout() returns a Promise too: executeAsyncScript hands the script
      // a callback (its last argument) and waits, up to the script timeout,
      // until the page calls it. The page answers null or the error's code.
      const failed = await driver.executeAsyncScript((done) => {
        IPCortex.PBX.Auth.logout().then(() => done(null), (err) => done(err.code || String(err)));
      });
      assert.equal(failed, null, 'logout() failed');
      assert.equal((await whoAmI(driver)).id, null);
    });

    it('shows the error of a wrong password in the overlay', { timeout: TEST_MS }, async () => {
      const { driver } = session;
      await driver.get(appURL);
      await startLogin(driver);

      await enterOverlay(driver);
      await typeCredentials(driver, 'alice', 'not-the-password');
      // The overlay stays, says what is wrong in #status (role="alert"),
      // and lets the user try again: login() has not settled.
      const status = await driver.findElement(By.id('status'));
      await driver.wait(async () => (await status.getText()) !== '', STEP_MS, '#status shows no error');
      assert.equal(await status.getText(), 'Wrong username or password');

      // The user gives up: Close ends login() with the code popup_closed.
      await driver.findElement(By.id('close')).click();
      await driver.switchTo().defaultContent();
      assert.equal((await loginResult(driver)).code, 'popup_closed');
      assert.equal((await whoAmI(driver)).id, null);
    });
  });
}
