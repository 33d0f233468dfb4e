// run.mjs runs the flows of flows.mjs in one engine, against one or more
// sites, and prints one line per flow:
//
//   RESULT {"scheme": "http", "flow": "login", "ok": true, "ms": 1234}
//   RESULT {"scheme": "https", "flow": "overlay", "ok": false, "error": "..."}
//
// It is started by engines_test.go (go test ./web/internal/engines/), which
// starts the PBX and the page servers and passes everything in the JSON of
// ENGINES_CONFIG:
//
//   {"engine": "chromium" | "firefox" | "webkit",
//    "sites": [{"scheme": "http", "pbx": "http://127.0.0.1:P", "page": "http://localhost:Q"}, ...],
//    "stepMs": 45000, "flowMs": 120000, "flows": ["login", ...] (optional: a subset),
//    "chromium", "chromedriver", "firefox", "webkitdriver", "minibrowser": tool paths,
//    "tmp": a folder for profiles}
//
// One browser runs every flow of every site; a flow that hangs the browser
// ends it, and the next flow starts a new one. Over https every flow also
// checks that the page loaded nothing over plain http.

import {flows} from './flows.mjs';
import {StepTimeout, newDriver, within} from './drivers.mjs';

const cfg = JSON.parse(process.env.ENGINES_CONFIG || '{}');
const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const report = (r) => console.log(`RESULT ${JSON.stringify(r)}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let driver = null;

async function startDriver() {
  const d = newDriver(cfg.engine, cfg, log);
  try {
    await d.start();
  } catch (e) {
    await d.quit().catch(() => {});
    throw e;
  }
  log(`${cfg.engine}: ${d.version} (acceptInsecureCerts: ${d.insecureCerts}); driver and browser pids ${d.pids().join(' ')}`);
  return d;
}

// poll evaluates expr in the page until it is truthy and returns its value,
// or throws after stepMs; the error then also shows the value of explain,
// when given (an expression that says what the page was doing).
async function poll(d, expr, what, explain) {
  const deadline = Date.now() + cfg.stepMs;
  let last;
  for (;;) {
    last = await d.eval(expr);
    if (last) return last;
    if (Date.now() > deadline) {
      const why = explain ? `; ${explain} is ${JSON.stringify(await d.eval(explain).catch((e) => String(e)))}` : '';
      throw new Error(`waited ${cfg.stepMs / 1000} s for ${what}; the last value of ${expr} was ${JSON.stringify(last)}${why}`);
    }
    await sleep(100);
  }
}

// advanceClock moves the PBX's test clock (POST /test/clock). Node trusts
// the test CA through NODE_EXTRA_CA_CERTS.
async function advanceClock(site, by) {
  const r = await fetch(`${site.pbx}/test/clock`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({advance: by}),
    signal: AbortSignal.timeout(cfg.stepMs),
  });
  if (!r.ok) throw new Error(`POST ${site.pbx}/test/clock {"advance": "${by}"}: ${r.status} ${await r.text()}`);
}

async function runFlow(site, flow, notes) {
  const d = driver;
  const ctx = {
    note: (msg) => notes.push(msg),
    d,
    site,
    engine: cfg.engine,
    stepMs: cfg.stepMs,
    poll: (expr, what, explain) => poll(d, expr, what, explain),
    advanceClock: (by) => advanceClock(site, by),
  };
  await flow.run(ctx);
  if (site.scheme === 'https') {
    // Every window the flow left open: each loaded only https (and wss).
    const insecure = await d.eval('T.insecure()');
    if (insecure.length > 0) throw new Error(`the page loaded over plain http: ${JSON.stringify(insecure)}`);
    const loaded = await d.eval('T.loaded()');
    notes.push(`the page loaded ${loaded.length} URLs, all https or wss (${[...new Set(loaded.map((u) => u.replace(/\?.*$/, '')))].join(' ')})`);
  }
}

async function main() {
  const selected = cfg.flows && cfg.flows.length ? flows.filter((f) => cfg.flows.includes(f.name)) : flows;
  for (const site of cfg.sites) {
    for (const flow of selected) {
      const r = {scheme: site.scheme, flow: flow.name, title: flow.title, ok: false, notes: []};
      const start = Date.now();
      try {
        if (!driver) driver = await startDriver();
        log(`${site.scheme} ${flow.name}: ${flow.title}`);
        await within(cfg.flowMs, `the flow ${flow.name}`, runFlow(site, flow, r.notes));
        r.ok = true;
      } catch (e) {
        r.error = e instanceof Error ? e.message : String(e);
        log(`${site.scheme} ${flow.name} FAILED: ${r.error}`);
        if (e instanceof StepTimeout) {
          // The browser may be wedged: the next flow gets a new one.
          log('ending the browser after a timeout');
          await driver?.quit().catch(() => {});
          driver = null;
        } else if (driver) {
          // Leave one window for the next flow.
          await driver.closeOthers().catch((err) => log(`closing windows: ${err.message}`));
        }
      }
      r.ms = Date.now() - start;
      report(r);
    }
  }
}

let code = 0;
try {
  await main();
} catch (e) {
  log(`the run failed: ${e.stack || e}`);
  code = 1;
} finally {
  if (driver) await driver.quit().catch((e) => log(`quit: ${e.message}`));
  log('done');
}
process.exit(code);
