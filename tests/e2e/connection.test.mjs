// End-to-end: the first-run question and team mode in the real window. A first start with no
// saved choice asks "work alone or join the office hub", and working alone is saved; the app
// started with --hub talks to an office hub (`warta serve` on loopback), stays signed in across a
// restart (the token is in the OS keyring), and shows the sign-in screen with a notice once an
// admin has ended the user's sessions.
//
//   make e2e        (runs this after workflow.test.mjs, under scripts/with-keyring and xvfb-run)
//
// The app's data directory is the system's app-data one under a temporary XDG_DATA_HOME, so the
// first run is a real first run (no --data, which implies working alone). Env: WARTA_APP,
// WARTA_BIN (the `warta` binary; default target/debug/warta), TAURI_DRIVER.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Session, clearOutputs, freePort, startTauriDriver, waitFor } from './webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'target/e2e');
const APP = process.env.WARTA_APP ?? path.join(ROOT, 'target/debug/warta-app');
const WARTA = process.env.WARTA_BIN ?? path.join(path.dirname(APP), 'warta');
const PASSWORD = 'warta-demo';

let xdg;
let hubData;
let hub;
let hubUrl;
/** The window open now: its driver and session. */
let app = null;
let shot = 0;

function tauriDriver() {
  if (process.env.TAURI_DRIVER) return process.env.TAURI_DRIVER;
  const cargoBin = path.join(os.homedir(), '.cargo/bin/tauri-driver');
  return existsSync(cargoBin) ? cargoBin : 'tauri-driver';
}

/** Starts the app with `args` in a fresh driver (one app per driver). */
async function open(args) {
  const driver = await startTauriDriver({ binary: tauriDriver(), logFile: path.join(OUT, 'connection-driver.log') });
  try {
    const session = await Session.create(driver.url, { alwaysMatch: { 'tauri:options': { application: APP, args } } });
    app = { driver, session };
    return session;
  } catch (err) {
    await driver.stop();
    throw err;
  }
}

/** Closes the window (the app exits) and its driver. */
async function close() {
  if (!app) return;
  const { driver, session } = app;
  app = null;
  await session.delete().catch((err) => console.error(`delete session: ${err.message}`));
  await driver.stop().catch((err) => console.error(`stop tauri-driver: ${err.message}`));
}

async function screenshot(name) {
  shot += 1;
  try {
    await app?.session.screenshot(path.join(OUT, `connection-${String(shot).padStart(2, '0')}-${name}.png`));
  } catch (err) {
    console.error(`screenshot ${name}: ${err.message}`);
  }
}

/** Calls the office hub's API directly (the admin's side). */
async function api(method, route, { token, body } = {}) {
  const res = await fetch(`${hubUrl}/api/v1${route}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

describe('first run and team mode in the desktop window', () => {
  before(async () => {
    xdg = await mkdtemp(path.join(os.tmpdir(), 'warta-e2e-xdg-'));
    // The app (started by WebKitWebDriver, started by tauri-driver) inherits this environment.
    process.env.XDG_DATA_HOME = xdg;
    hubData = await mkdtemp(path.join(os.tmpdir(), 'warta-e2e-hub-'));
    const port = await freePort();
    hubUrl = `http://127.0.0.1:${port}`;
    await clearOutputs(OUT, (name) => name.startsWith('connection-'));
    hub = spawn(WARTA, ['serve', '--demo', '--data', hubData, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    hub.stderr.pipe(createWriteStream(path.join(OUT, 'connection-hub.log')));
    await waitFor(
      async () => {
        const res = await fetch(`${hubUrl}/healthz`).catch(() => null);
        return res?.ok ?? false;
      },
      { timeout: 60_000, message: `warta serve on ${hubUrl}` },
    );
  });

  after(async () => {
    await close();
    hub?.kill('SIGTERM');
    for (const dir of [xdg, hubData]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a first start asks; working alone is saved and not asked again', async () => {
    const session = await open([]);
    await session.findByTestId('connect');
    await screenshot('first-run');

    // Joining: an address where nothing answers is refused in words; the office hub is found.
    await session.click('connect-office');
    const closed = await freePort();
    await session.fill('connect-url', `http://127.0.0.1:${closed}`);
    await session.click('connect-check');
    const banner = await session.findByTestId('error-banner');
    assert.match(await session.text(banner), /tidak dapat dihubungi/);
    assert.equal(await session.exists('connect-found'), false);
    await session.fill('connect-url', `${hubUrl}/`);
    await session.click('connect-check');
    const found = await session.findByTestId('connect-found');
    assert.match(await session.text(found), new RegExp(hubUrl.replaceAll('.', '\\.')));
    await screenshot('office-found');

    // This time, working alone after all (choosing the office would restart the app).
    await session.click('connect-solo');
    await session.click('connect-solo-go');
    // An empty office on this laptop: the set-up screen.
    await session.findByTestId('setup-username');
    const saved = JSON.parse(await readFile(path.join(xdg, 'id.go.warta.desktop', 'connection.json'), 'utf8'));
    assert.deepEqual(saved, { mode: 'solo' });
    await close();

    const again = await open([]);
    await again.findByTestId('setup-username');
    assert.equal(await again.exists('connect'), false, 'the question is not asked again');
    await close();
  });

  test('with --hub the window signs in to the office hub and stays signed in across a restart', async () => {
    const session = await open(['--hub', hubUrl]);
    const hubLine = await session.findByTestId('login-hub');
    assert.match(await session.text(hubLine), new RegExp(hubUrl.replaceAll('.', '\\.')));
    assert.equal(await session.exists('login-change-hub'), false, '--hub cannot be changed in the window');
    await session.fill('login-username', 'reporter');
    await session.fill('login-password', PASSWORD);
    await session.click('login-submit');
    await session.findByTestId('current-user');
    await screenshot('office-signed-in');
    await close();

    // The token was kept in the keyring: the next start is signed in at once.
    const restarted = await open(['--hub', hubUrl]);
    await restarted.findByTestId('current-user');
    assert.match(await restarted.text('current-user'), /reporter/);
    await close();
  });

  test('after an admin ends the sessions, the next start asks to sign in and says why', async () => {
    const admin = (await api('POST', '/auth/login', { body: { username: 'admin', password: PASSWORD } })).token;
    const users = await api('GET', '/users', { token: admin });
    const reporter = users.find((u) => u.username === 'reporter');
    const ended = await api('POST', `/users/${reporter.id}/sessions/revoke`, { token: admin });
    assert.ok(ended.revoked >= 1, `revoked ${ended.revoked}`);

    const session = await open(['--hub', hubUrl]);
    await session.findByTestId('login-session-ended');
    await session.findByTestId('login-username');
    assert.equal(await session.exists('current-user'), false);
    await screenshot('session-ended');
  });
});
