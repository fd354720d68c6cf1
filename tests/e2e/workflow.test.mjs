// End-to-end: the real Warta window, driven through tauri-driver + WebKitWebDriver, takes one item
// through SOP-A (reporter → editor → official → publisher) and checks the published page over HTTP.
//
//   make e2e        (builds the app, then runs this under xvfb-run)
//
// Env: WARTA_APP (the binary; default target/debug/warta-app), TAURI_DRIVER (default: on PATH or
// ~/.cargo/bin). Screenshots and the driver's log go to target/e2e/.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

import { Session, WAIT_MS, startTauriDriver, testIdCss, waitFor } from './webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'target/e2e');
const APP = process.env.WARTA_APP ?? path.join(ROOT, 'target/debug/warta-app');
const PASSWORD = 'warta-demo';

const RUN = Date.now().toString(36);
const TITLE = `Uji E2E ${RUN} peresmian jembatan`;
const SUMMARY = `Ringkasan uji ${RUN}.`;
const HEADING = `Judul ${RUN}`;
const BODY = `# ${HEADING}\n\nParagraf pertama dari reporter ${RUN}.`;
const EDITED = `Paragraf tambahan dari editor ${RUN}.`;
const PHOTO = `foto-${RUN}.png`;

let driver;
let session;
let dataDir;
let hubUrl;
let itemId;
let photoBytes;
let shot = 0;
let failed = false;

/** Screenshots are numbered in the order taken: target/e2e/NN-name.png. */
async function screenshot(name) {
  shot += 1;
  const file = path.join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`);
  try {
    await session.screenshot(file);
  } catch (err) {
    console.error(`screenshot ${name} failed: ${err.message}`);
  }
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
      if (session) await screenshot(`failed-${name.replace(/\W+/g, '-').toLowerCase()}`);
      throw err;
    }
  });
}

describe('SOP-A in the desktop window', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    assert.ok(existsSync(APP), `${APP} is missing: run make app`);
    await rm(OUT, { recursive: true, force: true }); // screenshots of an earlier run would mislead
    await mkdir(OUT, { recursive: true });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'warta-e2e-'));
    driver = await startTauriDriver({ binary: tauriDriver(), logFile: path.join(OUT, 'tauri-driver.log') });
    session = await Session.create(driver.url, {
      alwaysMatch: {
        'tauri:options': { application: APP, args: ['--demo', '--data', dataDir] },
      },
    });
  });

  after(async () => {
    // Each clean-up step on its own, so one failing does not leave the others undone.
    await session?.delete().catch((err) => console.error(`delete session: ${err.message}`));
    await driver?.stop().catch((err) => console.error(`stop tauri-driver: ${err.message}`));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  step('the window opens on the login screen with the hub running', async () => {
    hubUrl = await waitFor(
      () =>
        session.executeAsync(
          `const done = arguments[arguments.length - 1];
           window.__TAURI_INTERNALS__.invoke('hub_url').then(done, (e) => done('error: ' + e));`,
        ),
      { message: 'the hub_url command' },
    );
    assert.match(hubUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${hubUrl}/healthz`);
    assert.equal(await health.text(), 'ok');
    await screenshot('launch');
    await session.findByTestId('login-username');
    assert.equal(await session.exists('current-user'), false, 'nobody is signed in yet');
  });

  step('reporter signs in', async () => {
    await login('reporter');
    await screenshot('reporter-home');
  });

  step('reporter writes an item in Markdown and saves it', async () => {
    await session.click('new-item');
    await session.findByTestId('item-title');
    await session.fill('item-title', TITLE);
    await session.fill('item-summary', SUMMARY);
    await session.fill('item-body', BODY);
    await fillOptional('item-category', 'Pemerintahan');
    await fillOptional('item-unit', 'Diskominfo');
    await session.fill('item-tags', 'e2e, uji');
    await session.click('item-save');

    const saved = await waitFor(
      async () => (await api('reporter', '/api/v1/items?filter=mine')).find((i) => i.title === TITLE),
      { message: 'the saved item in the hub' },
    );
    itemId = saved.id;
    const detail = await api('reporter', `/api/v1/items/${itemId}`);
    assert.equal(detail.content.summary, SUMMARY);
    assert.equal(detail.content.body.trim(), BODY);
    assert.equal(detail.state.step, 'collect');
    await waitForStep('collect');
    await noErrorBanner();

    // The preview renders the Markdown: the heading's text, without its '#'.
    await waitFor(async () => (await session.text('preview')).includes(HEADING), {
      message: 'the rendered heading in the preview',
    });
    assert.ok(!(await session.text('preview')).includes(`# ${HEADING}`), 'preview shows raw Markdown');
    await screenshot('reporter-item-saved');
  });

  step('reporter attaches a photo', async (t) => {
    const file = path.join(dataDir, PHOTO);
    const png = (photoBytes = makePng(320, 240));
    await writeFile(file, png);
    t.diagnostic(`photo uploaded by ${await attach(file, png)}`);
    const row = await waitFor(
      async () => {
        for (const el of await session.findAll(testIdCss('attachment-row'))) {
          if ((await session.text(el)).includes(PHOTO)) return el;
        }
        return null;
      },
      { timeout: 30_000, message: `an attachment-row naming ${PHOTO}` },
    );
    assert.ok(row);
    const detail = await api('reporter', `/api/v1/items/${itemId}`);
    const stored = detail.attachments.find((a) => a.filename === PHOTO);
    assert.ok(stored, 'the hub has the attachment');
    assert.equal(stored.mime, 'image/png');
    assert.equal(stored.size, png.length);
    // The row's thumbnail comes straight from the hub's signed thumb_url, and it loads.
    assert.ok(stored.thumb_url, 'the hub made a thumbnail');
    const thumb = await waitFor(
      () =>
        session.execute(
          `const img = document.querySelector(arguments[0]);
           return img && img.complete && img.naturalWidth > 0 ? { src: img.src, width: img.naturalWidth } : null;`,
          [`[data-testid="attachment-row"][data-attachment-id="${stored.id}"] img[data-testid="attachment-thumb"]`],
        ),
      { timeout: 30_000, message: 'a loaded thumbnail <img> in the attachment row' },
    );
    const shownThumb = new URL(thumb.src);
    shownThumb.search = ''; // a retry while the thumbnail was being made adds ?retry=N
    assert.equal(shownThumb.href, new URL(stored.thumb_url, hubUrl).href, 'the <img> shows thumb_url');
    await session.execute(
      `document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });`,
      ['[data-testid="attachment-row"]'],
    );
    await screenshot('reporter-attachment');
    await session.execute('window.scrollTo(0, 0);', []);
  });

  step('reporter submits: the item moves to handover', async () => {
    await act('submit', 'handover');
    await screenshot('reporter-submitted');
    await logout();
  });

  step('editor finds the item in tasks, claims it and edits the body', async () => {
    await login('editor');
    await openFromTasks();
    await screenshot('editor-item');
    await session.click('action-claim');
    await waitForStep('edit');
    await session.fill('item-body', `${BODY}\n\n${EDITED}`);
    await session.click('item-save');
    await waitFor(
      async () => (await api('editor', `/api/v1/items/${itemId}`)).content.body.includes(EDITED),
      { message: 'the edited body in the hub' },
    );
    await noErrorBanner();
    await screenshot('editor-edited');
  });

  step('editor sends it to the official', async () => {
    await act('send_to_official', 'review');
    await logout();
  });

  step('official reviews the page as it will be published and approves', async () => {
    await login('official');
    await openFromTasks();
    await session.findByTestId('review-frame');
    await screenshot('official-review');
    await session.switchToFrame('review-frame');
    try {
      const page = await waitFor(
        async () => {
          const text = await session.execute('return document.body ? document.body.innerText : "";');
          return text.includes(TITLE) && text.includes(EDITED) ? text : null;
        },
        { message: 'the title and edited body in the review frame' },
      );
      assert.ok(page.includes(HEADING));
    } finally {
      await session.switchToParentFrame();
    }
    await act('approve', 'publish');
    await logout();
  });

  step('publisher publishes it', async () => {
    await login('publisher');
    await openFromTasks();
    await act('publish', 'published');
    await screenshot('publisher-published');
  });

  step('the published page is on the public site with the edit and the photo', async () => {
    await session.click('nav-published');
    const row = await waitFor(
      async () => {
        for (const el of await session.findAll(testIdCss('published-row'))) {
          if ((await session.text(el)).includes(TITLE)) return el;
        }
        return null;
      },
      { message: `a published-row titled ${TITLE}` },
    );
    assert.ok(row);
    await screenshot('published-list');

    const [link] = await session.findAllWithin(row, testIdCss('published-link'));
    assert.ok(link, 'the published row has a published-link');
    const shown = (await session.attribute(link, 'href')) || (await session.text(link)).trim();
    const href = new URL(shown, hubUrl);
    assert.equal(href.hostname, '127.0.0.1', `published URL ${href} is served by the hub`);
    const published = (await api('publisher', `/api/v1/items/${itemId}`)).published_url;
    assert.equal(href.href, new URL(published, hubUrl).href, 'the link is the URL the hub published');

    const res = await fetch(href, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, `GET ${href}`);
    const html = await res.text();
    assert.ok(html.includes(TITLE), 'the page has the title');
    assert.ok(html.includes(EDITED), "the page has the editor's paragraph");
    assert.ok(html.includes(HEADING), 'the page has the Markdown heading');
    assert.ok(!html.includes(`# ${HEADING}`), 'the Markdown was rendered');
    const img = html.match(/<img\b[^>]*\bsrc="([^"]+)"/i);
    assert.ok(img, 'the page has an <img>');
    const photo = await fetch(new URL(img[1].replaceAll('&amp;', '&'), href), {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(photo.status, 200, `GET the photo ${img[1]}`);
    assert.match(photo.headers.get('content-type') ?? '', /^image\//);
    // The hub publishes the web rendition: a JPEG made from the PNG, with no metadata carried over.
    const served = Buffer.from(await photo.arrayBuffer());
    assert.ok(!served.equals(photoBytes), 'the page shows the web rendition, not the uploaded file');
    assert.ok(isJpeg(served), `the <img> is a JPEG (starts with ${served.subarray(0, 4).toString('hex')})`);
    assert.equal(jpegHasExif(served), false, 'the published JPEG carries no EXIF');
    await logout();
  });
});

// --- the story's vocabulary ---

async function login(username) {
  await session.fill('login-username', username);
  await session.fill('login-password', PASSWORD);
  await session.click('login-submit');
  const me = (await apiLogin(username)).user;
  const shown = await waitFor(
    async () => {
      if (!(await session.exists('current-user'))) return null;
      const text = (await session.text('current-user')).trim();
      return text.includes(me.display_name) || text.includes(username) ? text : null;
    },
    { message: `current-user showing ${username}` },
  );
  assert.ok(shown);
  await noErrorBanner();
}

async function logout() {
  await session.click('logout');
  await session.findByTestId('login-username');
  assert.equal(await session.exists('current-user'), false, 'signed out');
}

/** Opens our item from "my tasks", asserting it is there. */
async function openFromTasks() {
  await session.click('nav-tasks');
  const row = await waitFor(
    async () => {
      for (const el of await session.findAll(testIdCss('task-row'))) {
        if ((await session.attribute(el, 'data-item-id')) === String(itemId)) return el;
      }
      return null;
    },
    { message: `task-row for item ${itemId}` },
  );
  const [title] = await session.findAllWithin(row, testIdCss('task-title'));
  assert.ok(title, 'the task row has a task-title');
  assert.equal((await session.text(title)).trim(), TITLE);
  await session.click(title);
  // An editable title is an <input>; a read-only one (the official's) is text.
  await waitFor(
    async () =>
      (await session.property('item-title', 'value')) === TITLE ||
      (await session.text('item-title')).trim() === TITLE,
    { message: 'the item screen with our title' },
  );
}

/** Takes a workflow action, confirming (with a note) if the UI asks, and waits for the next step. */
async function act(action, nextStep) {
  await session.click(`action-${action}`);
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if ((await currentStep()) === nextStep) break;
    if (await session.exists('action-confirm')) {
      if (await session.exists('action-note')) await session.fill('action-note', `Catatan uji ${RUN}`);
      await session.click('action-confirm');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await waitForStep(nextStep);
  await noErrorBanner();
  const detail = await api(roleFor(nextStep), `/api/v1/items/${itemId}`);
  assert.equal(detail.state.step, nextStep, 'the hub agrees with the screen');
}

async function currentStep() {
  const steps = await session.findAll(testIdCss('item-step'));
  return steps.length ? session.attribute(steps[0], 'data-step') : null;
}

async function waitForStep(id) {
  await waitFor(async () => (await currentStep()) === id, { message: `item-step ${id}` });
}

async function noErrorBanner() {
  for (const el of await session.findAll(testIdCss('error-banner'))) {
    if (await session.isDisplayed(el)) assert.fail(`error banner: ${await session.text(el)}`);
  }
}

async function fillOptional(testId, value) {
  if (!(await session.exists(testId))) return;
  const current = await session.property(testId, 'value');
  if (!current) await session.fill(testId, value);
}

/**
 * Sends the photo's path to the file input; WebKitWebDriver may refuse, so fall back to a script
 * that puts a File built from the same bytes into the input and fires `change`.
 */
async function attach(file, bytes) {
  const input = await session.find(testIdCss('attach-input'));
  try {
    await session.sendKeys(input, file);
    await waitFor(() => session.exists('attachment-row'), { timeout: 10_000, message: 'upload by send keys' });
    return 'WebDriver send keys';
  } catch (err) {
    console.error(`send keys to the file input did not upload (${err.message}); using DataTransfer`);
  }
  await session.execute(
    `const [css, base64, name] = arguments;
     const input = document.querySelector(css);
     const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
     const transfer = new DataTransfer();
     transfer.items.add(new File([bytes], name, { type: 'image/png' }));
     input.files = transfer.files;
     input.dispatchEvent(new Event('change', { bubbles: true }));`,
    [testIdCss('attach-input'), bytes.toString('base64'), path.basename(file)],
  );
  return 'a DataTransfer script';
}

// --- the hub, directly: to learn ids and cross-check what the screen says ---

const tokens = new Map();

async function apiLogin(username) {
  const res = await fetch(`${hubUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, `API login as ${username}`);
  const body = await res.json();
  tokens.set(username, body.token);
  return body;
}

async function api(username, route) {
  if (!tokens.has(username)) await apiLogin(username);
  const res = await fetch(`${hubUrl}${route}`, {
    headers: { authorization: `Bearer ${tokens.get(username)}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, `GET ${route} as ${username}`);
  return res.json();
}

function roleFor(step) {
  return { handover: 'editor', edit: 'editor', review: 'official', publish: 'publisher' }[step] ?? 'admin';
}

function tauriDriver() {
  if (process.env.TAURI_DRIVER) return process.env.TAURI_DRIVER;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'tauri-driver');
    if (dir && existsSync(candidate)) return candidate;
  }
  return path.join(process.env.CARGO_HOME ?? path.join(os.homedir(), '.cargo'), 'bin/tauri-driver');
}

// --- JPEG checks for the published rendition ---

function isJpeg(bytes) {
  return bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Walks the JPEG's marker segments up to the image data, looking for an APP1 "Exif" segment. */
function jpegHasExif(bytes) {
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
      at += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return false; // start of scan / end of image
    const length = bytes.readUInt16BE(at + 2);
    if (marker === 0xe1 && bytes.subarray(at + 4, at + 10).toString('latin1') === 'Exif\0\0') return true;
    at += 2 + length;
  }
  return false;
}

// --- a real PNG: a sky-to-sea gradient with a sun, so the photo is not a blank square ---

function makePng(width, height) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const sun = (x - width * 0.7) ** 2 + (y - height * 0.3) ** 2 < (height * 0.12) ** 2;
      const sea = y > height * 0.6;
      const [r, g, b] = sun ? [250, 200, 60] : sea ? [20, 80 + (y % 7) * 4, 140] : [120, 170, 230 - y / 4];
      raw.set([r, g, Math.round(b)], row + 1 + x * 3);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
