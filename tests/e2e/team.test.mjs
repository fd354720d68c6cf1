// End-to-end: team mode with two laptops on one office hub (issue 5). One `warta serve` with the
// demo office on loopback, and two app windows open at once against it, each with `--hub`: the
// reporter's and the editor's. The editor watches "My tasks" and never clicks or reloads; what the
// reporter submits shows up there by itself (the hub's change feed). The hub is then stopped and
// started again on the same port and data: the editor's live connection comes back by itself and
// carries the next submission. Last, the reporter works with the hub down: a new item goes into the
// laptop's outbox, waits, and is received by the office once the hub is back, without a click.
//
//   make e2e        (runs this after connection.test.mjs, under scripts/with-keyring and xvfb-run)
//
// Two laptops, two keyrings: each window's tauri-driver runs under its own scripts/with-keyring
// (its own D-Bus session and throwaway GNOME keyring), and each has its own XDG_DATA_HOME (app
// data: connection choice, outbox). On one shared keyring both apps would keep their session
// token under the same key (the keyring namespace is per hub URL), so whichever signed in last
// would own both sessions, and the reporter's outbox could send as the editor. That is not a
// product bug: two people on two laptops never share an OS keyring, and one OS user runs one
// app-data folder per hub; the test gives each window what a real second laptop has.
//
// Both tauri-drivers (and their WebKitWebDrivers) run side by side on the one Xvfb display, each
// on its own --port/--native-port. Env: WARTA_APP, WARTA_BIN (default: next to the app),
// TAURI_DRIVER. Logs and screenshots go to target/e2e/team-*.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { Session, clearOutputs, freePort, startTauriDriver, testIdCss, waitFor } from './webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'target/e2e');
const APP = process.env.WARTA_APP ?? path.join(ROOT, 'target/debug/warta-app');
const WARTA = process.env.WARTA_BIN ?? path.join(path.dirname(APP), 'warta');
const WITH_KEYRING = path.join(ROOT, 'scripts/with-keyring');
const PASSWORD = 'warta-demo';
const RUN = Date.now().toString(36);

/**
 * How long a change may take to reach the other window over the live feed. Queues also refresh
 * every 30 s while the feed is down, so a bound well below that shows the feed carried it.
 */
const LIVE_MS = 10_000;
/** How long the live connection may take to come back (it waits 1, 2, 4… s between tries). */
const RECONNECT_MS = 45_000;
/** How long the outbox may take to send once the hub is back (it retries with backoff). */
const OUTBOX_MS = 45_000;

let hubData;
let hubPort;
let hubUrl;
/** The running `warta serve`, or null while the hub is down. */
let hub = null;
let hubLog;
/** name → { xdg, driver, session } */
const laptops = new Map();
let shot = 0;
let failed = false;

function tauriDriver() {
  if (process.env.TAURI_DRIVER) return process.env.TAURI_DRIVER;
  const cargoBin = path.join(os.homedir(), '.cargo/bin/tauri-driver');
  return existsSync(cargoBin) ? cargoBin : 'tauri-driver';
}

// --- the office hub ---

async function startHub() {
  const child = spawn(WARTA, ['serve', '--demo', '--data', hubData, '--listen', `127.0.0.1:${hubPort}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.pipe(hubLog, { end: false });
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  hub = child;
  await waitFor(
    async () => {
      if (exited) throw new Error(`warta serve exited: ${JSON.stringify(exited)} (see team-hub.log)`);
      const res = await fetch(`${hubUrl}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
      return res?.ok ?? false;
    },
    { timeout: 60_000, message: `warta serve on ${hubUrl}` },
  );
}

/**
 * SIGTERM (a graceful shutdown, as systemd does), SIGKILL if it has not ended in 20 s. The timers
 * are unref'd: once the hub is gone they must not keep the test process alive.
 */
async function stopHub() {
  const child = hub;
  hub = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if (await Promise.race([gone.then(() => true), sleep(20_000, false, { ref: false })])) return;
  console.error('warta serve did not stop in 20 s after SIGTERM; killing it');
  child.kill('SIGKILL');
  await Promise.race([gone, sleep(5_000, undefined, { ref: false })]);
}

// --- the two laptops ---

/** Opens a window on the office hub with its own app data and its own keyring. */
async function openLaptop(name) {
  const xdg = await mkdtemp(path.join(os.tmpdir(), `warta-e2e-${name}-`));
  laptops.set(name, { xdg, driver: null, session: null });
  const driver = await startTauriDriver({
    binary: tauriDriver(),
    logFile: path.join(OUT, `team-${name}-driver.log`),
    env: { ...process.env, XDG_DATA_HOME: xdg },
    prefix: [WITH_KEYRING],
  });
  laptops.get(name).driver = driver;
  return openWindow(name);
}

/** Starts the app on `name`'s laptop (its driver, so its keyring and app data, stay). */
async function openWindow(name) {
  const laptop = laptops.get(name);
  laptop.session = await Session.create(laptop.driver.url, {
    alwaysMatch: { 'tauri:options': { application: APP, args: ['--hub', hubUrl] } },
  });
  return laptop.session;
}

/** Closes `name`'s window (the app exits, as when the laptop is shut) and starts it again. */
async function restartWindow(name) {
  const laptop = laptops.get(name);
  const old = laptop.session;
  laptop.session = null;
  await old.delete();
  return openWindow(name);
}

async function closeLaptops() {
  for (const [name, { xdg, driver, session }] of laptops) {
    await session?.delete().catch((err) => console.error(`${name}: delete session: ${err.message}`));
    await driver?.stop().catch((err) => console.error(`${name}: stop tauri-driver: ${err.message}`));
    await rm(xdg, { recursive: true, force: true });
  }
  laptops.clear();
}

async function screenshots(name) {
  for (const [who, { session }] of laptops) {
    if (!session) continue;
    shot += 1;
    const file = path.join(OUT, `team-${String(shot).padStart(2, '0')}-${who}-${name}.png`);
    await session.screenshot(file).catch((err) => console.error(`screenshot ${file}: ${err.message}`));
  }
}

/** A step of the story: skipped once an earlier one failed, both windows screenshotted on failure. */
function step(name, fn) {
  test(name, { timeout: 4 * 60_000 }, async (t) => {
    if (failed) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      await screenshots(`failed-${name.replace(/\W+/g, '-').toLowerCase()}`);
      throw err;
    }
  });
}

// --- what a user does and sees ---

async function login(session, username) {
  await session.fill('login-username', username);
  await session.fill('login-password', PASSWORD);
  await session.click('login-submit');
  await waitFor(async () => (await session.exists('current-user')) && (await session.text('current-user')), {
    message: `${username} signed in`,
  });
}

/** The header's live indicator: 'connecting' | 'live' | 'reconnecting', or null when not shown. */
async function liveState(session) {
  const [el] = await session.findAll(testIdCss('live-status'));
  return el ? session.attribute(el, 'data-state') : null;
}

async function waitLive(session, state, timeout, who) {
  await waitFor(async () => (await liveState(session)) === state, {
    timeout,
    message: `${who}'s live indicator saying ${state}`,
  });
}

/** The rows of the task list now: [{ id, title }]. */
async function taskRows(session) {
  return session.execute(
    `return [...document.querySelectorAll('[data-testid="task-row"]')].map((row) => ({
       id: row.getAttribute('data-item-id'),
       title: row.querySelector('[data-testid="task-title"]')?.textContent.trim() ?? '',
     }));`,
  );
}

/** Waits, clicking nothing, until the task list has a row titled `title`; returns it. */
async function waitForTask(session, title, timeout) {
  return waitFor(async () => (await taskRows(session)).find((r) => r.title === title), {
    timeout,
    interval: 250,
    message: `a task-row titled ${JSON.stringify(title)} in the editor's window`,
  });
}

/** The reporter writes a new item in the New item form (not saved yet). */
async function writeItem(session, title) {
  await session.click('new-item');
  await session.findByTestId('item-title');
  await session.fill('item-title', title);
  await session.fill('item-summary', `Ringkasan ${title}.`);
  await session.fill('item-body', `Isi berita ${title}, ditulis di laptop reporter.`);
}

async function currentHash(session) {
  return session.execute('return location.hash;');
}

/** The reporter saves the item and submits it to the editor from the item's page; returns its id. */
async function createAndSubmit(session, title) {
  await writeItem(session, title);
  await session.click('item-save');
  const hash = await waitFor(async () => /^#\/item\/(\d+)/.exec(await currentHash(session)), {
    message: `the new item ${JSON.stringify(title)} open in the reporter's window`,
  });
  const id = Number(hash[1]);
  await waitFor(async () => (await session.findAll(testIdCss('action-submit'))).length > 0, {
    message: 'the submit action on the item',
  });
  await session.click('action-submit');
  // Submitting may ask for confirmation (and a note) first.
  await waitFor(
    async () => {
      if (await session.exists('action-confirm')) {
        if (await session.exists('action-note')) await session.fill('action-note', `Catatan ${RUN}`);
        await session.click('action-confirm');
      }
      const [badge] = await session.findAll(testIdCss('item-step'));
      return badge && (await session.attribute(badge, 'data-step')) === 'handover';
    },
    { message: 'the item in step handover in the reporter window' },
  );
  return id;
}

let editorToken = null;

/** The hub's view, asked directly as the editor (sessions outlive a hub restart). */
async function hubItem(id) {
  if (!editorToken) {
    const login = await fetch(`${hubUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'editor', password: PASSWORD }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(login.status, 200, 'API login as editor');
    editorToken = (await login.json()).token;
  }
  const res = await fetch(`${hubUrl}/api/v1/items/${id}`, {
    headers: { authorization: `Bearer ${editorToken}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, `GET /items/${id}`);
  return res.json();
}

describe('two laptops on one office hub', { timeout: 15 * 60_000 }, () => {
  let reporter;
  let editor;

  before(async () => {
    assert.ok(existsSync(APP), `${APP} is missing: run make app`);
    assert.ok(existsSync(WARTA), `${WARTA} is missing: cargo build -p warta-cli`);
    await clearOutputs(OUT, (name) => name.startsWith('team-'));
    hubLog = createWriteStream(path.join(OUT, 'team-hub.log'));
    hubData = await mkdtemp(path.join(os.tmpdir(), 'warta-e2e-team-hub-'));
    hubPort = await freePort();
    hubUrl = `http://127.0.0.1:${hubPort}`;
    try {
      await startHub();
      reporter = await openLaptop('reporter');
      editor = await openLaptop('editor');
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  after(async () => {
    await closeLaptops();
    await stopHub().catch((err) => console.error(`stop warta serve: ${err.message}`));
    hubLog?.end();
    if (hubData) await rm(hubData, { recursive: true, force: true });
  });

  step('the reporter and the editor sign in, each on their own laptop', async () => {
    await login(reporter, 'reporter');
    await login(editor, 'editor');
    assert.match(await reporter.text('current-user'), /Rina Reporter|reporter/);
    assert.match(await editor.text('current-user'), /Eko Editor|editor/);
    await editor.click('nav-tasks');
    await waitFor(async () => (await currentHash(editor)).startsWith('#/tasks'), { message: "editor's My tasks" });
    await waitLive(editor, 'live', RECONNECT_MS, 'the editor');
    await waitLive(reporter, 'live', RECONNECT_MS, 'the reporter');
    await screenshots('signed-in');
  });

  step("what the reporter submits appears in the editor's tasks without a click", async () => {
    const title = `Uji tim ${RUN} rapat banjir`;
    assert.equal((await taskRows(editor)).find((r) => r.title === title), undefined);
    const id = await createAndSubmit(reporter, title);
    const row = await waitForTask(editor, title, LIVE_MS);
    assert.equal(row.id, String(id), 'the row is the reporter’s item');
    assert.equal((await hubItem(id)).state.step, 'handover');
    assert.ok((await currentHash(editor)).startsWith('#/tasks'), 'the editor stayed on My tasks');
    await screenshots('live-submission');
  });

  step('the hub restarts; the live connection comes back by itself and carries the next change', async () => {
    await stopHub();
    await waitLive(editor, 'reconnecting', RECONNECT_MS, 'the editor');
    await screenshots('hub-down');
    await startHub();
    await waitLive(editor, 'live', RECONNECT_MS, 'the editor');
    await waitLive(reporter, 'live', RECONNECT_MS, 'the reporter');

    const title = `Uji tim ${RUN} setelah hub dimulai ulang`;
    const id = await createAndSubmit(reporter, title);
    const row = await waitForTask(editor, title, LIVE_MS);
    assert.equal(row.id, String(id));
    assert.ok((await currentHash(editor)).startsWith('#/tasks'), 'the editor stayed on My tasks');
    await screenshots('after-restart');
  });

  step('offline, the reporter submits into the outbox, restarts the app; the office receives it once the hub is back', async () => {
    await stopHub();
    await waitLive(editor, 'reconnecting', RECONNECT_MS, 'the editor');

    const title = `Uji tim ${RUN} dari desa tanpa sinyal`;
    await writeItem(reporter, title);
    await reporter.click('item-submit');
    // The hub cannot confirm: the window goes to the outbox, where the entry waits.
    await waitFor(async () => (await currentHash(reporter)).startsWith('#/outbox'), {
      timeout: 30_000,
      message: "the reporter's window on #/outbox",
    });
    await waitForWaiting(reporter, title);
    await waitFor(async () => reporter.exists('offline-banner'), {
      timeout: 30_000,
      message: "the offline banner in the reporter's window",
    });
    await screenshots('outbox-waiting');

    // The reporter closes the app and opens it again, still with no connection: signed in as
    // before (the token from the laptop's keyring), offline, the entry still waiting on disk.
    reporter = await restartWindow('reporter');
    await waitFor(async () => (await reporter.exists('current-user')) && (await reporter.text('current-user')), {
      timeout: 30_000,
      message: "the reporter signed in again in the restarted window, offline",
    });
    assert.match(await reporter.text('current-user'), /Rina Reporter|reporter/);
    await reporter.findByTestId('offline-banner', { timeout: 30_000 });
    await reporter.click('nav-outbox');
    await waitForWaiting(reporter, title);
    await screenshots('outbox-after-app-restart');

    await startHub();
    // Nobody clicks: the outbox retries by itself.
    const received = await waitFor(
      async () => {
        const e = await outboxEntry(reporter, title);
        if (e?.state === 'failed') throw new Error(`the entry failed: ${e.text}`);
        return e?.state === 'received' ? e : null;
      },
      { timeout: OUTBOX_MS, interval: 500, message: `the outbox entry ${JSON.stringify(title)} received` },
    );
    assert.ok(received.link, 'a received entry links to the item');
    await waitFor(async () => !(await reporter.exists('offline-banner')), {
      timeout: RECONNECT_MS,
      message: "the offline banner gone from the reporter's window",
    });
    await screenshots('outbox-received');

    // The link opens the item in the reporter's window: the one the hub has, submitted.
    // The list re-renders as entries change: find the link afresh for each try.
    await waitFor(
      async () => {
        const { link } = (await outboxEntry(reporter, title)) ?? {};
        if (!link) return false;
        await reporter.cmd('POST', `/element/${link.id}/click`, {});
        return true;
      },
      { timeout: 10_000, message: `a click on the outbox entry's link` },
    );
    const hash = await waitFor(async () => /^#\/item\/(\d+)/.exec(await currentHash(reporter)), {
      message: "the received item open in the reporter's window",
    });
    const id = Number(hash[1]);
    const item = await waitFor(
      async () => {
        const found = await hubItem(id);
        return found.state.step === 'handover' ? found : null;
      },
      { timeout: OUTBOX_MS, interval: 1_000, message: `item ${id} submitted to the editor (step handover)` },
    );
    assert.equal(item.content.title, title, 'the hub has the item as written');

    // The editor, still on My tasks, sees it once the live connection is back.
    await waitLive(editor, 'live', RECONNECT_MS, 'the editor');
    const row = await waitForTask(editor, title, LIVE_MS);
    assert.equal(row.id, String(id));
    assert.ok((await currentHash(editor)).startsWith('#/tasks'), 'the editor stayed on My tasks');
    await screenshots('editor-sees-outbox-item');
  });
});

/** Waits for the outbox entry `title` to wait for the connection (it may show 'sending' while a try fails). */
async function waitForWaiting(session, title) {
  let seen = null;
  await waitFor(
    async () => {
      seen = await outboxEntry(session, title);
      return seen?.state === 'waiting';
    },
    { timeout: 30_000, message: `an outbox-entry for ${JSON.stringify(title)} waiting for the connection` },
  ).catch((err) => {
    throw new Error(`${err.message}; last seen: ${JSON.stringify(seen && { state: seen.state, text: seen.text })}`);
  });
}

/** The outbox entry showing `title`: { state, text, link }, or null. */
async function outboxEntry(session, title) {
  for (const el of await session.findAll(testIdCss('outbox-entry'))) {
    const text = await session.text(el);
    if (!text.includes(title)) continue;
    const state = await session.attribute(el, 'data-state');
    const [link] = await session.findAllWithin(el, testIdCss('outbox-open'));
    return { state, text, link };
  }
  return null;
}
