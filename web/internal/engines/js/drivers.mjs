// drivers.mjs: one small interface over the two ways this machine can drive
// its browsers, so that the flows (flows.mjs) are written once:
//
//   - WebDriver classic through selenium-webdriver, against a driver server
//     that we start ourselves: chromedriver for Chromium, WebKitWebDriver for
//     WebKitGTK's MiniBrowser (which needs a display: run under xvfb-run);
//   - WebDriver BiDi through puppeteer-core, for Firefox ESR.
//
// A driver has a current window; every call works on it:
//
//   await d.start()                  start the browser with a fresh profile
//   await d.open(url)                navigate and wait for the load event
//   await d.reload()
//   await d.eval(expr)               evaluate a JS expression in the page,
//                                    awaiting a Promise; JSON-able result
//   await d.newWindow()              open a new tab (a new window in
//                                    MiniBrowser) and make it current;
//                                    returns its handle
//   await d.use(handle)              make a window current
//   await d.closeWindow(handle)      close it; the first window is current
//   await d.closeOthers()            close all windows but the first
//   await d.inFrame(css, fn)         fn(frame) inside the iframe the selector
//                                    finds in the current page:
//                                    frame.waitVisible(css), frame.type(css,
//                                    text), frame.click(css), frame.text(css)
//   await d.quit()                   end the browser and the driver server
//
// Every call is bounded by a deadline (stepMs): a hung browser fails the step
// with a message that says what hung, instead of hanging the run.

import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import puppeteer from 'puppeteer-core';
import {Builder, By, until} from 'selenium-webdriver';

// StepTimeout is the error of a step that did not end within its deadline.
export class StepTimeout extends Error {}

// within settles like promise, or rejects with StepTimeout after ms. A
// rejection's message starts with what the step was.
export function within(ms, what, promise) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeout(`${what}: no answer within ${ms / 1000} s (the browser or its driver hung)`)), ms);
  });
  const named = Promise.resolve(promise).catch((e) => {
    if (e instanceof StepTimeout || e?.step) throw e;
    const err = new Error(`${what}: ${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? e}`);
    err.step = what;
    throw err;
  });
  return Promise.race([named, late]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// freePort asks the kernel for a free loopback port.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// driverServer starts a WebDriver server (chromedriver, WebKitWebDriver) on a
// free port and waits until its /status answers ready.
async function driverServer(bin, args, log, ms) {
  const port = await freePort();
  const child = spawn(bin, [...args, `--port=${port}`], {stdio: ['ignore', 'pipe', 'pipe']});
  const name = path.basename(bin);
  child.stdout.on('data', (b) => log(`[${name}] ${String(b).trimEnd()}`));
  child.stderr.on('data', (b) => log(`[${name}] ${String(b).trimEnd()}`));
  let exited = null;
  child.on('exit', (code, signal) => { exited = `exited with ${code ?? signal}`; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + ms;
  for (;;) {
    if (exited) throw new Error(`${name} ${exited} before it answered on ${url}`);
    try {
      const r = await fetch(`${url}/status`, {signal: AbortSignal.timeout(2000)});
      const body = await r.json();
      if (body?.value?.ready !== false) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer on ${url}/status within ${ms / 1000} s`);
    }
    await sleep(100);
  }
  return {url, child};
}

// stopChild ends a child process: SIGTERM, then SIGKILL after a grace.
async function stopChild(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  if (await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)])) return;
  child.kill('SIGKILL');
  await Promise.race([gone, sleep(graceMs)]);
}

// SeleniumDriver drives Chromium or WebKit over WebDriver classic.
export class SeleniumDriver {
  // engine is 'chromium' or 'webkit'; cfg has the tool paths and stepMs.
  constructor(engine, cfg, log) {
    this.engine = engine;
    this.cfg = cfg;
    this.log = log;
    this.stepMs = cfg.stepMs;
    this.windowType = engine === 'webkit' ? 'window' : 'tab';
  }

  async start() {
    const {cfg} = this;
    let bin, args, caps;
    if (this.engine === 'chromium') {
      this.profile = fs.mkdtempSync(path.join(cfg.tmp || os.tmpdir(), 'chromium-'));
      bin = cfg.chromedriver;
      args = [];
      caps = {
        browserName: 'chrome',
        acceptInsecureCerts: true,
        'goog:chromeOptions': {
          binary: cfg.chromium,
          // What DESIGN.md lists for headless Chromium here, and a fresh
          // profile.
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            `--user-data-dir=${this.profile}`, '--window-size=1280,900'],
        },
      };
    } else {
      bin = cfg.webkitdriver;
      args = [];
      caps = {
        browserName: 'MiniBrowser',
        acceptInsecureCerts: true,
        'webkitgtk:browserOptions': {binary: cfg.minibrowser, args: ['--automation']},
      };
    }
    const srv = await within(this.stepMs, `starting ${path.basename(bin)}`, driverServer(bin, args, this.log, this.stepMs));
    this.server = srv.child;
    this.wd = await within(this.stepMs, `a ${this.engine} session from ${path.basename(bin)}`,
      new Builder().usingServer(srv.url).withCapabilities(caps).build());
    const got = await this.wd.getCapabilities();
    this.version = `${got.get('browserName')} ${got.get('browserVersion')}`;
    this.insecureCerts = got.get('acceptInsecureCerts');
    await this.wd.manage().setTimeouts({script: this.stepMs, pageLoad: this.stepMs, implicit: 0});
    this.main = await this.wd.getWindowHandle();
  }

  pids() {
    return [this.server?.pid].filter(Boolean);
  }

  step(what, p) {
    return within(this.stepMs + 5000, `${this.engine}: ${what}`, p);
  }

  open(url) { return this.step(`opening ${url}`, this.wd.get(url)); }
  reload() { return this.step('reloading the page', this.wd.navigate().refresh()); }

  eval(expr) {
    return this.step(`evaluating ${clip(expr)}`, this.wd.executeScript(`return (${expr});`));
  }

  async newWindow() {
    await this.step(`opening a new ${this.windowType}`, this.wd.switchTo().newWindow(this.windowType));
    return this.wd.getWindowHandle();
  }

  use(handle) { return this.step('switching windows', this.wd.switchTo().window(handle)); }

  async closeWindow(handle) {
    await this.use(handle);
    await this.step('closing a window', this.wd.close());
    await this.use(this.main);
  }

  async closeOthers() {
    for (const h of await this.step('listing windows', this.wd.getAllWindowHandles())) {
      if (h !== this.main) await this.closeWindow(h);
    }
    await this.use(this.main);
  }

  async inFrame(css, fn) {
    const wd = this.wd;
    const el = await this.step(`finding ${css}`, wd.wait(until.elementLocated(By.css(css)), this.stepMs, `no ${css} in the page`));
    await this.step(`switching into ${css}`, wd.switchTo().frame(el));
    const find = async (sel) => {
      const e = await this.step(`finding ${sel} in the frame`, wd.wait(until.elementLocated(By.css(sel)), this.stepMs, `no ${sel} in the frame`));
      await this.step(`waiting for ${sel} to show`, wd.wait(until.elementIsVisible(e), this.stepMs, `${sel} never showed`));
      return e;
    };
    const frame = {
      waitVisible: async (sel) => { await find(sel); },
      type: async (sel, text) => {
        const e = await find(sel);
        await this.step(`clearing ${sel}`, e.clear());
        // Click into the field first, as a user does. WebKitWebDriver
        // needs it: its Element Send Keys into an element of a
        // cross-origin frame fails with "Element is not focusable" unless
        // the element has focus already (any cross-origin iframe, not only
        // the overlay's; a same-origin one works). Element Clear blurs,
        // so the click comes after it.
        await this.step(`clicking into ${sel}`, e.click());
        await this.step(`typing into ${sel}`, e.sendKeys(text));
      },
      click: async (sel) => { const e = await find(sel); await this.step(`clicking ${sel}`, e.click()); },
      text: async (sel) => { const e = await find(sel); return this.step(`reading ${sel}`, e.getText()); },
      eval: (expr) => this.step(`evaluating ${clip(expr)} in the frame`, wd.executeScript(`return (${expr});`)),
    };
    try {
      return await fn(frame);
    } finally {
      await this.step('switching out of the frame', wd.switchTo().defaultContent());
    }
  }

  async quit() {
    try {
      if (this.wd) await within(15000, 'ending the WebDriver session', this.wd.quit());
    } catch (e) {
      this.log(`quit: ${e.message}`);
    }
    await stopChild(this.server);
    if (this.profile) fs.rmSync(this.profile, {recursive: true, force: true});
  }
}

// PuppeteerDriver drives Firefox ESR over WebDriver BiDi.
export class PuppeteerDriver {
  constructor(engine, cfg, log) {
    this.engine = engine;
    this.cfg = cfg;
    this.log = log;
    this.stepMs = cfg.stepMs;
  }

  async start() {
    this.browser = await within(this.stepMs, 'starting Firefox over WebDriver BiDi', puppeteer.launch({
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      executablePath: this.cfg.firefox,
      headless: true,
      acceptInsecureCerts: true,
      // puppeteer makes a fresh profile in the temporary folder and removes
      // it at close.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      protocolTimeout: this.stepMs,
      dumpio: false,
    }));
    this.version = await this.browser.version();
    this.insecureCerts = 'asked';
    const pages = await this.browser.pages();
    this.page = pages[0] || (await this.browser.newPage());
    this.main = this.page;
    this.page.setDefaultTimeout(this.stepMs);
    this.page.setDefaultNavigationTimeout(this.stepMs);
  }

  pids() {
    return [this.browser?.process()?.pid].filter(Boolean);
  }

  step(what, p) {
    return within(this.stepMs + 5000, `${this.engine}: ${what}`, p);
  }

  open(url) { return this.step(`opening ${url}`, this.page.goto(url, {waitUntil: 'load'})); }
  reload() { return this.step('reloading the page', this.page.reload({waitUntil: 'load'})); }

  eval(expr) {
    // A string is evaluated as an expression; its Promise is awaited.
    return this.step(`evaluating ${clip(expr)}`, this.page.evaluate(`(${expr})`));
  }

  async newWindow() {
    const p = await this.step('opening a new tab', this.browser.newPage());
    p.setDefaultTimeout(this.stepMs);
    p.setDefaultNavigationTimeout(this.stepMs);
    this.page = p;
    return p;
  }

  async use(handle) {
    this.page = handle;
    await this.step('bringing a tab to the front', handle.bringToFront());
  }

  async closeWindow(handle) {
    await this.step('closing a tab', handle.close());
    await this.use(this.main);
  }

  async closeOthers() {
    for (const p of await this.step('listing tabs', this.browser.pages())) {
      if (p !== this.main) await this.step('closing a tab', p.close());
    }
    await this.use(this.main);
  }

  async inFrame(css, fn) {
    const h = await this.step(`finding ${css}`, this.page.waitForSelector(css, {timeout: this.stepMs}));
    const f = await this.step(`the frame of ${css}`, h.contentFrame());
    if (!f) throw new Error(`${css} has no frame`);
    const find = (sel) => this.step(`waiting for ${sel} in the frame`, f.waitForSelector(sel, {visible: true, timeout: this.stepMs}));
    const frame = {
      waitVisible: async (sel) => { await find(sel); },
      type: async (sel, text) => {
        const e = await find(sel);
        await this.step(`clearing ${sel}`, e.evaluate((el) => { el.value = ''; }));
        await this.step(`typing into ${sel}`, e.type(text));
      },
      click: async (sel) => { const e = await find(sel); await this.step(`clicking ${sel}`, e.click()); },
      text: async (sel) => { const e = await find(sel); return this.step(`reading ${sel}`, e.evaluate((el) => el.innerText)); },
      eval: (expr) => this.step(`evaluating ${clip(expr)} in the frame`, f.evaluate(`(${expr})`)),
    };
    return fn(frame);
  }

  async quit() {
    if (!this.browser) return;
    const proc = this.browser.process();
    try {
      await within(15000, 'closing Firefox', this.browser.close());
    } catch (e) {
      this.log(`quit: ${e.message}`);
      await stopChild(proc);
    }
  }
}

// newDriver returns the driver of an engine: 'chromium', 'firefox' or
// 'webkit'.
export function newDriver(engine, cfg, log) {
  switch (engine) {
    case 'chromium':
    case 'webkit':
      return new SeleniumDriver(engine, cfg, log);
    case 'firefox':
      return new PuppeteerDriver(engine, cfg, log);
    default:
      throw new Error(`unknown engine ${JSON.stringify(engine)}: want chromium, firefox or webkit`);
  }
}

function clip(s) {
  s = String(s).replace(/\s+/g, ' ');
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}
