// Playwright's configuration for a test of a page that logs in to the PBX.
// The local PBX server is started once for the run and stopped after it.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  // No retries: a step that fails now and then shows as a failure.
  retries: 0,
  reporter: 'list',

  // `go run ./web -addr 127.0.0.1:0` listens on a free port and prints
  // "listening on http://127.0.0.1:PORT" once it accepts connections.
  // Playwright waits for that line and puts the address in process.env.PBX_URL
  // (the name of the regular expression's group, in capitals), which the
  // tests read. At the end it sends SIGTERM to the server.
  webServer: {
    command: `${process.env.GO || 'go'} run ../../web -addr 127.0.0.1:0`,
    wait: { stdout: /listening on (?<pbx_url>http:\/\/\S+)/ },
    timeout: 5 * 60_000, // the first `go run` compiles the server
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
  },

  use: {
    browserName: 'chromium',
    // No browser is downloaded: any Chromium installed on the machine will
    // do (Debian's package here; CHROMIUM names another). Playwright already
    // runs it headless with --no-sandbox and without background networking.
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    },
  },
});
