// End-to-end: a network security incident (SOP-D) in the real window. The IT examiner reports it
// from the form and forwards it; the head of division finds it on "My tasks" and writes the
// disposition (to whom, instruction); the rest of the procedure — escalation and one verification
// loop — goes through the hub's API as each role; the closed incident shows its history and loop;
// the dashboard draws SOP-D's steps; the completion report comes out as a PDF whose first page is
// saved as a picture beside the screenshots.
//
//   make e2e        (runs this after the other window tests, under scripts/with-keyring and xvfb-run)
//
// Env: WARTA_APP (the binary; default target/debug/warta-app), TAURI_DRIVER.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Session, clearOutputs, elementRef, startTauriDriver, testIdCss, waitFor } from './webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'target/e2e');
const APP = process.env.WARTA_APP ?? path.join(ROOT, 'target/debug/warta-app');
const PASSWORD = 'warta-demo';
const RUN = Date.now().toString(36);
const TITLE = `Serangan DDoS ke server DNS ${RUN}`;
const INSTRUCTION = `Periksa log firewall dan blokir sumber serangan ${RUN}.`;

const execFileAsync = promisify(execFile);

let driver;
let session;
let dataDir;
let hubUrl;
let incidentId;
let shot = 0;
let failed = false;

function tauriDriver() {
  if (process.env.TAURI_DRIVER) return process.env.TAURI_DRIVER;
  const cargoBin = path.join(os.homedir(), '.cargo/bin/tauri-driver');
  return existsSync(cargoBin) ? cargoBin : 'tauri-driver';
}

/** Screenshots are numbered in the order taken: target/e2e/incident-NN-name.png. */
async function screenshot(name) {
  shot += 1;
  const file = path.join(OUT, `incident-${String(shot).padStart(2, '0')}-${name}.png`);
  await session.screenshot(file).catch((err) => console.error(`screenshot ${name} failed: ${err.message}`));
  return file;
}

/** A step of the story: skipped once an earlier one failed, screenshotted when it fails. */
function step(name, fn) {
  test(name, { timeout: 3 * 60_000 }, async (t) => {
    if (failed) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      if (session) await screenshot(`failed-${name.replace(/\W+/g, '-').toLowerCase().slice(0, 60)}`);
      throw err;
    }
  });
}

describe('an SOP-D incident in the desktop window', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    assert.ok(existsSync(APP), `${APP} is missing: run make app`);
    await clearOutputs(OUT, (name) => /^incident-\d\d-.*\.png$/.test(name) || name === 'incident-driver.log');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'warta-e2e-incident-'));
    driver = await startTauriDriver({ binary: tauriDriver(), logFile: path.join(OUT, 'incident-driver.log') });
    session = await Session.create(driver.url, {
      alwaysMatch: { 'tauri:options': { application: APP, args: ['--demo', '--data', dataDir] } },
    });
  });

  after(async () => {
    await session?.delete().catch((err) => console.error(`delete session: ${err.message}`));
    await driver?.stop().catch((err) => console.error(`stop tauri-driver: ${err.message}`));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  step('the IT examiner reports an incident from the form and forwards it', async () => {
    hubUrl = await waitFor(
      () =>
        session.executeAsync(
          `const done = arguments[arguments.length - 1];
           window.__TAURI_INTERNALS__.invoke('hub_url').then(done, (e) => done('error: ' + e));`,
        ),
      { message: 'the hub_url command' },
    );
    assert.match(hubUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    await login('pemeriksa');
    await session.click('nav-incidents');
    await session.click('incident-new');
    assert.equal(await session.selectOption(await session.find(testIdCss('incident-form-sop')), 'sop-d'), 'sop-d');
    await session.fill('incident-form-title', TITLE);
    await session.fill('incident-form-description', `Lalu lintas ke server DNS naik 40 kali sejak pukul 09.00 (${RUN}).`);
    await session.click('incident-form-submit');
    await waitForStep('log');
    assert.ok((await session.text('incident-title')).includes(TITLE), 'the incident screen shows its title');
    const mine = await api('pemeriksa', '/api/v1/incidents?state=open&sop=sop-d');
    incidentId = mine.find((i) => i.title === TITLE)?.id;
    assert.ok(incidentId, 'the hub has the incident');
    await screenshot('reported');

    await chooseAction('forward');
    await session.click('incident-act');
    await waitForStep('dispose');
    await logout();
  });

  step('the head of division finds it on My tasks and writes the disposition to the section head', async () => {
    await login('kabid');
    await session.click('nav-tasks');
    const row = await waitFor(
      async () => (await session.findAll(`[data-testid="incident-task-row"][data-incident-id="${incidentId}"]`))[0] ?? null,
      { message: `incident ${incidentId} on My tasks` },
    );
    await screenshot('my-tasks');
    await session.click(row);
    await waitForStep('dispose');
    await chooseAction('dispose');
    // The disposition names to whom (a holder of the next step's role) and the instruction.
    assert.equal(await session.property('incident-act', 'disabled'), true, 'not sent without to whom and instruction');
    const kasi = (await api('admin', '/api/v1/users')).find((u) => u.username === 'kasi');
    assert.equal(
      await session.selectOption(await session.find(testIdCss('incident-assignee')), 'Siti Kasi Keamanan Jaringan'),
      String(kasi.id),
      'the section head is offered',
    );
    await session.fill('incident-instruction', INSTRUCTION);
    await session.click('incident-act');
    await waitForStep('direct');
    const detail = await api('kabid', `/api/v1/incidents/${incidentId}`);
    const disposed = detail.history.find((v) => v.step === 'dispose');
    assert.equal(disposed.action, 'dispose');
    assert.match(JSON.stringify(disposed), new RegExp(INSTRUCTION.replace(/[.]/g, '\\.')));
    await screenshot('disposed');
    await logout();
  });

  step('escalation and one verification loop through the hub close it; the window shows its history and loop', async () => {
    const walk = [
      ['kasi', 'direct', { instruction: 'Tim teknis cek server DNS dan firewall.' }],
      ['teknisi', 'escalate', {}],
      ['kasi', 'consult', {}],
      ['kabid', 'advise', { instruction: 'Aktifkan rate limiting dan hubungi penyedia jaringan.' }],
      ['teknisi', 'finish', {}],
      ['teknisi', 'report', {}],
      ['kasi', 'incomplete', { note: 'Rate limiting belum aktif di server cadangan.' }],
      ['teknisi', 'finish', {}],
      ['teknisi', 'report', {}],
      ['kasi', 'complete', {}],
      ['kabid', 'acknowledge', {}],
      ['kasi', 'notify', {}],
      ['teknisi', 'forward', {}],
    ];
    for (const [user, action, body] of walk) {
      await api(user, `/api/v1/incidents/${incidentId}/actions/${action}`, body);
    }
    await login('kabid');
    await session.click('nav-incidents');
    assert.equal(await session.selectOption(await session.find(testIdCss('incident-filter-state')), 'closed'), 'closed');
    const row = await waitFor(
      async () => (await session.findAll(`[data-testid="incident-row"][data-incident-id="${incidentId}"]`))[0] ?? null,
      { message: `incident ${incidentId} among the closed ones` },
    );
    await session.click(row);
    await waitForStep('closed');
    assert.equal((await session.text('incident-loops')).trim(), '1', 'one verification loop');
    const history = (await api('kabid', `/api/v1/incidents/${incidentId}`)).history;
    assert.equal(history.filter((v) => v.step === 'verify').length, 2, 'verified twice');
    const visits = await session.findAll(testIdCss('incident-visit'));
    assert.equal(visits.length, history.length, 'every step visit is shown, the repeated ones twice');
    assert.equal(await session.exists('incident-actions'), false, 'nothing left to do');
    await screenshot('closed');
    await logout();
  });

  step('the dashboard draws SOP-D step by step', async () => {
    await login('kabid');
    assert.equal(await session.exists('nav-dashboard'), false, 'the head of division is not an official');
    await logout();
    await login('admin');
    await session.click('nav-dashboard');
    await session.findByTestId('dashboard-chart');
    const sops = await session.findAll(testIdCss('dashboard-sop'));
    let sopD = null;
    for (const el of sops) if ((await session.attribute(el, 'data-sop')) === 'sop-d') sopD = el;
    assert.ok(sopD, 'SOP-D is on the dashboard');
    const steps = await session.findAllWithin(sopD, testIdCss('dashboard-step'));
    assert.ok(steps.length >= 12, `SOP-D's steps are drawn (${steps.length})`);
    await session.execute('arguments[0].scrollIntoView({ block: "start" });', [elementRef(sopD)]);
    await screenshot('dashboard');
    await session.execute('window.scrollTo(0, 0);', []);
    await logout();
  });

  step('the completion report is a PDF with the incident, its loop and its steps', async () => {
    const res = await fetch(`${hubUrl}/api/v1/reports/incidents/${incidentId}/completion?format=pdf&lang=id`, {
      headers: { authorization: `Bearer ${await token('kabid')}` },
    });
    assert.equal(res.status, 200);
    const pdf = Buffer.from(await res.arrayBuffer());
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const file = path.join(OUT, `incident-completion-${RUN}.pdf`);
    await writeFile(file, pdf);
    const { stdout: text } = await execFileAsync('pdftotext', ['-layout', file, '-']);
    assert.ok(text.replace(/\s+/g, ' ').includes(TITLE), 'the report names the incident');
    // The first page as a picture for the record, then the PDF itself is not kept.
    const prefix = path.join(OUT, `incident-${String(++shot).padStart(2, '0')}-completion-report`);
    await execFileAsync('pdftoppm', ['-png', '-r', '70', '-f', '1', '-l', '1', '-singlefile', file, prefix]);
    assert.ok(existsSync(`${prefix}.png`), 'the first page rendered');
    await rm(file);
  });
});

// --- the story's vocabulary ---

const tokens = new Map();

async function token(username) {
  if (!tokens.has(username)) {
    const res = await fetch(`${hubUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: PASSWORD }),
    });
    assert.equal(res.status, 200, `login ${username}`);
    tokens.set(username, (await res.json()).token);
  }
  return tokens.get(username);
}

/** GET `route`, or POST `body` to it, as `username`; the JSON answer (asserting 2xx). */
async function api(username, route, body) {
  const res = await fetch(`${hubUrl}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${await token(username)}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${body === undefined ? 'GET' : 'POST'} ${route} as ${username}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function login(username) {
  await session.fill('login-username', username);
  await session.fill('login-password', PASSWORD);
  await session.click('login-submit');
  await session.findByTestId('current-user');
}

async function logout() {
  await session.click('logout');
  await session.findByTestId('login-username');
}

async function chooseAction(id) {
  const button = await waitFor(
    async () => (await session.findAll(`[data-testid="incident-action"][data-action="${id}"]`))[0] ?? null,
    { message: `the ${id} action` },
  );
  await session.click(button);
}

async function waitForStep(id) {
  await waitFor(
    async () => ((await session.exists('incident-step')) && (await session.attribute('incident-step', 'data-step')) === id ? true : null),
    { message: `the incident at step ${id}` },
  );
}
