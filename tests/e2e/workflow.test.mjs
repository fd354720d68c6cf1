// End-to-end: the real Warta window, driven through tauri-driver + WebKitWebDriver, takes one item
// through SOP-A (reporter → editor → official → publisher) to a real WordPress and checks the
// published pages over HTTP: WordPress's public post (title, body, the photo's rendition with
// its alternative text) and the hub's own site; then the official's Dasbor and activity report.
//
//   make e2e        (builds the app, then runs this under scripts/with-keyring and xvfb-run)
//
// The admin adds the WordPress website in the window; its application password goes to the OS
// keyring, so this needs a Secret Service session (scripts/with-keyring gives a throwaway one).
// WordPress is tests/wordpress/harness.sh (Debian's wordpress, MariaDB, PHP's server: make deps).
//
// Env: WARTA_APP (the binary; default target/debug/warta-app), TAURI_DRIVER (default: on PATH or
// ~/.cargo/bin). Screenshots and the driver's log go to target/e2e/, and WordPress's logs to
// target/e2e/wordpress/ when a step failed.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';

import { Session, WAIT_MS, clearOutputs, startTauriDriver, testIdCss, waitFor } from './webdriver.mjs';

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
const ALT = `Jembatan baru di atas sungai saat matahari terbit ${RUN}`;
const CAPTION = `Peresmian jembatan, uji ${RUN}.`;
const WP_NAME = `Situs Diskominfo ${RUN}`;
const HARNESS = path.join(ROOT, 'tests/wordpress/harness.sh');
/** Bound of the publish itself: the hub sends to WordPress before it answers the publisher. */
const PUBLISH_MS = 90_000;

const execFileAsync = promisify(execFile);

let driver;
let session;
/** The system's notification service (dunst) on this test's D-Bus session and X display. */
let notifications;
let dataDir;
let hubUrl;
let itemId;
let photoBytes;
let wpDir;
/** DIR/wp.json of the WordPress harness: url, user, app_password, … */
let wp;
/** The post's public address on WordPress, from the Publikasi panel. */
let wpPostUrl;
/** The photo as WordPress serves it on the post's page. */
let wpPhoto;
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
    // Screenshots of an earlier run would mislead (the other test files' outputs stay).
    await clearOutputs(OUT, (name) => /^\d\d-.*\.png$/.test(name) || name === 'tauri-driver.log' || name === 'wordpress');
    try {
      await startWordPress();
      notifications = await startNotificationService();
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'warta-e2e-'));
      driver = await startTauriDriver({ binary: tauriDriver(), logFile: path.join(OUT, 'tauri-driver.log') });
      session = await Session.create(driver.url, {
        alwaysMatch: {
          'tauri:options': { application: APP, args: ['--demo', '--data', dataDir] },
        },
      });
    } catch (err) {
      failed = true; // `after` keeps WordPress's logs
      throw err;
    }
  });

  after(async () => {
    // Each clean-up step on its own, so one failing does not leave the others undone.
    await session?.delete().catch((err) => console.error(`delete session: ${err.message}`));
    await driver?.stop().catch((err) => console.error(`stop tauri-driver: ${err.message}`));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    notifications?.kill();
    await stopWordPress().catch((err) => console.error(`stop WordPress: ${err.message}`));
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

  step('admin adds the WordPress website under Administrasi › Situs web', async () => {
    await login('admin');
    await session.click('nav-admin');
    await session.click('admin-tab-websites');
    await session.click('website-add');
    await session.findByTestId('website-form');
    await session.fill('website-kind', 'wordpress');
    assert.equal(await session.property('website-kind', 'value'), 'wordpress');
    await session.fill('website-name', WP_NAME);
    await session.fill('website-url', wp.url);
    await session.fill('website-username', wp.user);
    await session.fill('website-secret', wp.app_password);
    assert.equal(await session.attribute('website-secret', 'type'), 'password', 'the password is not shown');
    await screenshot('admin-website-form');
    await session.click('website-save');

    const row = await waitFor(
      async () => {
        for (const el of await session.findAll('[data-testid="website-row"][data-kind="wordpress"]')) {
          if ((await session.text(el)).includes(WP_NAME)) return el;
        }
        return null;
      },
      { message: `a website-row of kind wordpress named ${WP_NAME}` },
    );
    await noErrorBanner();
    assert.equal(await session.exists('website-form'), false, 'the form closed after saving');
    const [saved] = await session.findAllWithin(row, testIdCss('website-saved'));
    assert.ok(saved, 'the new row says it was saved');
    const [stored] = await session.findAllWithin(row, testIdCss('website-secret-stored'));
    assert.ok(stored, 'the row says the application password is stored');
    assert.ok((await session.text(row)).includes(wp.url), 'the row shows the address');

    // The hub has it, enabled, with the password in the keyring and nowhere it hands out.
    const targets = await api('admin', '/api/v1/targets');
    const target = targets.find((x) => x.kind === 'wordpress' && x.name === WP_NAME);
    assert.ok(target, 'the hub lists the WordPress website');
    assert.equal(target.url, wp.url);
    assert.equal(target.username, wp.user);
    assert.equal(target.enabled, true);
    assert.equal(target.has_secret, true);
    assert.ok(!JSON.stringify(targets).includes(wp.app_password), 'the hub never hands the password back');
    for (const file of await filesUnder(dataDir)) {
      const bytes = await readFile(file);
      assert.ok(!bytes.includes(wp.app_password), `the application password is not in ${file}`);
    }
    await screenshot('admin-websites');
    await logout();
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
    // The desktop app made the renditions on this laptop and sent them (the original only when
    // the office's policy and the connection allow): the attachment is the PNG's size, and its
    // type is the PNG's if the original travelled, otherwise the web rendition's.
    assert.equal(stored.size, png.length);
    // Originals are for editors and above: ask as the editor whether it travelled.
    const asEditor = (await api('editor', `/api/v1/items/${itemId}`)).attachments.find((a) => a.id === stored.id);
    assert.ok(
      asEditor.original_url ? stored.mime === 'image/png' : stored.mime === 'image/jpeg',
      `type ${stored.mime} with original ${asEditor.original_url ? 'sent' : 'not sent'}`,
    );
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

  step("reporter describes the photo: alternative text and caption", async () => {
    await session.fill('attachment-alt', ALT);
    await session.fill('attachment-caption', CAPTION);
    await session.click('attachment-text-save');
    await session.findByTestId('attachment-text-saved');
    await noErrorBanner();
    const detail = await api('reporter', `/api/v1/items/${itemId}`);
    const stored = detail.attachments.find((a) => a.filename === PHOTO);
    assert.equal(stored.alt_text, ALT, 'the hub has the alternative text');
    assert.equal(stored.caption, CAPTION, 'the hub has the caption');
    // What was saved stays in the fields.
    assert.equal(await session.property('attachment-alt', 'value'), ALT);
    assert.equal(await session.property('attachment-caption', 'value'), CAPTION);
    await session.execute(
      `document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });`,
      ['[data-testid="attachment-text"]'],
    );
    await screenshot('reporter-photo-text');
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
    await act('publish', 'published', PUBLISH_MS);
    await screenshot('publisher-published');
  });

  step('the Publikasi panel shows the post done on WordPress with its public link', async () => {
    await session.findByTestId('publications');
    // The item is `published` only once every website has it, so the rows should be done;
    // still, wait (bounded) for the panel, and say what it shows when it does not get there.
    let seen = '';
    const wpRow = await waitFor(
      async () => {
        const rows = await session.findAll('[data-testid="publication-row"][data-target-kind="wordpress"]');
        if (rows.length === 0) return null;
        const state = await session.attribute(rows[0], 'data-state');
        seen = `${state}: ${(await session.text(rows[0])).replace(/\s+/g, ' ')}`;
        return state === 'done' ? rows[0] : null;
      },
      { timeout: PUBLISH_MS, message: 'the WordPress publication-row done' },
    ).catch((err) => {
      throw new Error(`${err.message}; the row showed "${seen}"`);
    });
    assert.equal(await session.attribute(wpRow, 'data-action'), 'publish');
    const [target] = await session.findAllWithin(wpRow, testIdCss('publication-target'));
    assert.equal((await session.text(target)).trim(), WP_NAME);
    const [link] = await session.findAllWithin(wpRow, testIdCss('publication-link'));
    assert.ok(link, 'the WordPress row has a publication-link');
    wpPostUrl = (await session.attribute(link, 'href')) || (await session.text(link)).trim();
    assert.ok(wpPostUrl.startsWith(`${wp.url}/`), `the link ${wpPostUrl} is on WordPress (${wp.url})`);
    assert.equal((await session.text(link)).trim(), wpPostUrl, 'the link shows its address');
    // The hub fetched the public page after publishing and found what it sent.
    const [live] = await session.findAllWithin(wpRow, testIdCss('publication-live'));
    assert.ok(live, 'the WordPress row says whether the public page shows the post');
    assert.equal(await session.attribute(live, 'data-live'), 'true', 'the hub saw the post live');
    assert.equal((await session.findAllWithin(wpRow, testIdCss('publication-error'))).length, 0);

    // The hub's own site has it too, and nothing is still going out.
    await waitFor(
      async () => {
        const rows = await session.findAll('[data-testid="publication-row"][data-target-kind="static"]');
        return rows.length > 0 && (await session.attribute(rows[0], 'data-state')) === 'done';
      },
      { message: 'the hub site publication-row done' },
    );
    await waitFor(async () => !(await session.exists('publishing-progress')), {
      message: 'no publishing-progress left',
    });
    const detail = await api('publisher', `/api/v1/items/${itemId}`);
    assert.equal(detail.publishing, null, 'the hub has nothing of this item going out');
    const wpPub = detail.publications.find((p) => p.target_kind === 'wordpress');
    assert.equal(wpPub.state, 'done');
    assert.equal(wpPub.url, wpPostUrl, 'the panel links where the hub says the post is');
    assert.equal(wpPub.live_matches, true);
    assert.equal(detail.published_url, wpPostUrl, "the item's public address is the WordPress post");

    await session.execute(`document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });`, [
      testIdCss('publications'),
    ]);
    await screenshot('publisher-publications');
    await session.execute('window.scrollTo(0, 0);', []);
  });

  step("the post is on WordPress's public page with its image", async () => {
    const res = await fetch(wpPostUrl, { signal: AbortSignal.timeout(15_000) });
    assert.equal(res.status, 200, `GET ${wpPostUrl}`);
    const html = await res.text();
    const text = decodeEntities(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ');
    assert.ok(text.includes(TITLE), 'the WordPress page has the title');
    assert.ok(text.includes(`Paragraf pertama dari reporter ${RUN}.`), "the page has the reporter's paragraph");
    assert.ok(text.includes(EDITED), "the page has the editor's paragraph");
    assert.ok(text.includes(HEADING), 'the page has the Markdown heading');
    assert.ok(!text.includes(`# ${HEADING}`), 'the Markdown was rendered');

    // The photo: an <img> from WordPress's media library, with the alternative text typed in the window.
    const imgs = [...html.matchAll(/<img\b[^>]*>/gi)].map(([tag]) => ({
      tag,
      src: decodeEntities(attr(tag, 'src') ?? ''),
      alt: decodeEntities(attr(tag, 'alt') ?? ''),
    }));
    const uploads = `${wp.url}/wp-content/uploads/`;
    const img = imgs.find((i) => i.src.startsWith(uploads));
    assert.ok(img, `an <img> from ${uploads} on the page (found: ${imgs.map((i) => i.src).join(', ') || 'none'})`);
    assert.equal(img.alt, ALT, 'the <img> carries the alternative text');
    const photo = await fetch(img.src, { signal: AbortSignal.timeout(15_000) });
    assert.equal(photo.status, 200, `GET the photo ${img.src}`);
    assert.equal(photo.headers.get('content-type'), 'image/jpeg');
    wpPhoto = Buffer.from(await photo.arrayBuffer());
    assert.ok(isJpeg(wpPhoto), `the <img> is a JPEG (starts with ${wpPhoto.subarray(0, 4).toString('hex')})`);
    assert.ok(!wpPhoto.equals(photoBytes), 'WordPress has the web rendition, not the uploaded PNG');
    assert.equal(jpegHasExif(wpPhoto), false, 'the JPEG on WordPress carries no EXIF');
    const size = jpegSize(wpPhoto);
    assert.deepEqual(size, { width: 320, height: 240 }, 'the rendition of the 320×240 photo');
  });

  step("the Terbit list links the WordPress post; the hub's own site has the page and the same photo", async () => {
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

    // The item's public address is its main website's: the WordPress post.
    const [link] = await session.findAllWithin(row, testIdCss('published-link'));
    assert.ok(link, 'the published row has a published-link');
    const shown = (await session.attribute(link, 'href')) || (await session.text(link)).trim();
    const detail = await api('publisher', `/api/v1/items/${itemId}`);
    const shownUrl = new URL(shown, hubUrl).href;
    assert.equal(shownUrl, new URL(detail.published_url, hubUrl).href, 'the link is the URL the hub published');
    assert.equal(shownUrl, new URL(wpPostUrl).href, 'the link is the WordPress post');

    // The hub's own site ("Situs lokal") has the page too.
    const local = detail.publications.find((p) => p.target_kind === 'static');
    assert.ok(local?.url, 'the hub site publication has an address');
    const href = new URL(local.url, hubUrl);
    assert.equal(href.origin, new URL(hubUrl).origin, `the local page ${href} is served by the hub`);

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
    assert.equal(sha256(wpPhoto), sha256(served), 'WordPress shows the same rendition as the hub site');
    await logout();
  });

  step("an editor finds the item by a word of the editor's paragraph; a word nobody wrote finds nothing", async () => {
    await login('editor');
    await session.click('nav-items');
    await session.fill('queue-search', `editor ${RUN}`);
    await session.sendKeys('queue-search', '\uE007'); // Enter submits the search
    // The list may re-render while it is read (a live update): read it again until it holds.
    const rowIds = async () => {
      try {
        const found = await session.findAll(testIdCss('task-row'));
        return await Promise.all(found.map((el) => session.attribute(el, 'data-item-id')));
      } catch (err) {
        if (err.error === 'stale element reference') return null;
        throw err;
      }
    };
    const ids = await waitFor(
      async () => {
        if (!(await session.exists('queue-search-clear'))) return null;
        const found = await rowIds();
        return found && found.length === 1 ? found : null;
      },
      { message: 'exactly one search result' },
    );
    assert.deepEqual(ids, [String(itemId)], 'only the item whose body has the words');
    await screenshot('search');

    await session.fill('queue-search', `tidakadakata${RUN}`);
    await session.sendKeys('queue-search', '\uE007');
    await waitFor(async () => ((await rowIds())?.length === 0 ? true : null), {
      message: 'no rows for a word nobody wrote',
    });
    await noErrorBanner();
    await session.click('queue-search-clear');
    await waitFor(async () => ((await rowIds())?.length > 1 ? true : null), {
      message: 'the whole list back',
    });
    await logout();
  });

  step('the publisher has the guard watch the hub site; a defaced page is found, restored to what we published and proven normal', async () => {
    await login('publisher');
    await session.click('nav-guard');
    await session.findByTestId('guard-screen');
    // The hub's own site ("Situs lokal") is the first website; the guard watches it once on.
    const sites = await api('publisher', '/api/v1/guard/sites');
    const local = sites.find((s) => s.target_kind === 'static') ?? sites.find((s) => s.target_id === 1);
    assert.equal(await session.property('guard-site', 'value'), String(local.target_id), 'the hub site is shown first');
    if (!(await session.property('guard-enabled', 'checked'))) await session.click('guard-enabled');
    await session.click('guard-save-site');

    // Our item's page on the hub site is on the watch list (published before the guard was on).
    const detail = await api('publisher', `/api/v1/items/${itemId}`);
    const pagePath = new URL(detail.publications.find((p) => p.target_kind === 'static').url, hubUrl).pathname;
    await waitFor(
      async () => {
        for (const el of await session.findAll(testIdCss('guard-page'))) {
          if ((await session.text(el)).includes(pagePath)) return el;
        }
        return null;
      },
      { message: `a guard-page row for ${pagePath}` },
    );

    // Someone writes into the page file on the hub: the next check finds it.
    let file = path.join(dataDir, 'site', decodeURIComponent(pagePath.replace(/^\/site\//, '')));
    if (!file.endsWith('.html')) file = path.join(file, 'index.html');
    const original = await readFile(file, 'utf8');
    await writeFile(file, '<html><head><title>Hacked by e2e</title></head><body><h1>HACKED BY E2E</h1></body></html>');
    // Saving the settings reloads the list: click once its buttons are enabled again.
    const checkNow = await waitFor(
      async () => {
        for (const el of await session.findAll(testIdCss('guard-page'))) {
          if (!(await session.text(el)).includes(pagePath)) continue;
          const [button] = await session.findAllWithin(el, testIdCss('guard-check-now'));
          return button && !(await session.property(button, 'disabled')) ? button : null;
        }
        return null;
      },
      { message: `an enabled guard-check-now for ${pagePath}` },
    );
    await session.click(checkNow);
    const incident = await waitFor(
      async () => {
        const rows = await session.findAll(testIdCss('guard-incident'));
        for (const el of rows) if ((await session.text(el)).includes(pagePath)) return el;
        return null;
      },
      { message: 'an open guard-incident for the defaced page' },
    );
    const [evidence] = await session.findAllWithin(incident, testIdCss('guard-incident-open'));
    await session.click(evidence);
    await session.findByTestId('guard-incident-detail');
    // The desktop notification reached the system's notification service.
    const notified = await waitFor(
      async () => (await shownNotifications()).find((n) => n.summary.includes(local.target_name) && n.body.includes(pagePath)),
      { message: 'a desktop notification of the incident in dunst' },
    );
    assert.match(notified.summary, /^Peringatan situs: /, 'the notification is in Indonesian');
    const shown = await session.text('guard-incident-detail');
    assert.match(shown, /hacked by/i, 'the evidence shows the matched words');
    await screenshot('guard-incident');

    // Restore what Warta published, for this incident: the proof resolves it.
    await session.fill('guard-restore-reason', 'Halaman dirusak, dipulihkan dari Warta');
    await session.click('guard-restore-published');
    await waitFor(async () => ((await session.exists('guard-incident-restores')) ? true : null), {
      timeout: PUBLISH_MS,
      message: 'the restore listed on the incident',
    });
    const [restore] = await session.findAll(testIdCss('guard-incident-restore'));
    assert.equal(await session.attribute(restore, 'data-normal'), 'true', `the restore is shown normal: ${await session.text(restore)}`);
    assert.equal(await session.exists('guard-restore-published'), false, 'the incident is no longer open');
    const restored = await readFile(file, 'utf8');
    assert.ok(!/hacked by/i.test(restored), 'the defacement is gone');
    for (const words of [TITLE, EDITED]) assert.ok(restored.includes(words), `the restored page has "${words}"`);
    assert.ok(original.includes(TITLE), 'the page before had the title too');
    await noErrorBanner();
    await screenshot('guard-restored');
    const open = await api('publisher', '/api/v1/guard/incidents?state=open');
    assert.equal(open.filter((i) => i.url.includes(pagePath)).length, 0, 'no open incident for the page');
    await logout();
  });

  step('the official opens the Dasbor: each SOP-A step drawn with its met rate; the activity report comes as a PDF', async () => {
    await login('official');
    await session.click('nav-dashboard');
    const dash = await api('official', '/api/v1/dashboard');
    const sopA = dash.sops.find((s) => s.id === 'sop-a');
    // Our item went through every step of SOP-A today: each counts at least one visit.
    for (const st of sopA.steps) assert.ok(st.count >= 1, `${st.step} has an ended visit`);
    const bars = await waitFor(
      async () => {
        const rows = await session.findAll('[data-sop="sop-a"] [data-testid="dashboard-step"]');
        return rows.length === sopA.steps.length ? rows : null;
      },
      { message: 'a bar per SOP-A step on the Dasbor' },
    );
    for (const [i, row] of bars.entries()) {
      const shownRate = await session.attribute(row, 'data-met-rate');
      assert.equal(shownRate, sopA.steps[i].met_rate === null ? '' : String(sopA.steps[i].met_rate), `${sopA.steps[i].step}'s rate`);
    }
    await noErrorBanner();
    await screenshot('dashboard');
    // The report the download button fetches (the save dialog itself is the system's).
    const res = await fetch(`${hubUrl}/api/v1/reports/activity?format=pdf&lang=id`, {
      headers: { authorization: `Bearer ${tokens.get('official')}` },
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(res.status, 200);
    const pdf = path.join(OUT, 'activity-report.pdf');
    await writeFile(pdf, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileAsync('pdftotext', ['-raw', pdf, '-']);
    assert.match(stdout, /Laporan Kegiatan Periodik/);
    assert.ok(stdout.includes(sopA.steps[0].activity_id.split(' ')[0]), 'the report has the SOP-A steps');
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
async function act(action, nextStep, timeout = WAIT_MS) {
  await session.click(`action-${action}`);
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if ((await currentStep()) === nextStep) break;
    if (await session.exists('action-confirm')) {
      if (await session.exists('action-note')) await session.fill('action-note', `Catatan uji ${RUN}`);
      await session.click('action-confirm');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await waitForStep(nextStep, timeout);
  await noErrorBanner();
  const detail = await api(roleFor(nextStep), `/api/v1/items/${itemId}`);
  assert.equal(detail.state.step, nextStep, 'the hub agrees with the screen');
}

async function currentStep() {
  const steps = await session.findAll(testIdCss('item-step'));
  return steps.length ? session.attribute(steps[0], 'data-step') : null;
}

async function waitForStep(id, timeout = WAIT_MS) {
  await waitFor(async () => (await currentStep()) === id, { timeout, message: `item-step ${id}` });
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

// --- the real WordPress (tests/wordpress/harness.sh) ---

/** Starts dunst, the notification daemon, on this process's D-Bus session and X display. */
async function startNotificationService() {
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'run under scripts/with-keyring (a D-Bus session)');
  const child = spawn('dunst', [], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`dunst exited ${child.exitCode}: ${err}`);
      try {
        await execFileAsync('dunstctl', ['is-paused']);
        return true;
      } catch {
        return null;
      }
    },
    { message: 'dunst answering on D-Bus' },
  );
  return child;
}

/** The notifications dunst has shown (its history), newest first. */
async function shownNotifications() {
  // Shown ones move to the history when they close; close them all first.
  await execFileAsync('dunstctl', ['close-all']);
  const { stdout } = await execFileAsync('dunstctl', ['history']);
  const data = JSON.parse(stdout).data?.[0] ?? [];
  return data.map((n) => ({ summary: n.summary?.data ?? '', body: n.body?.data ?? '' }));
}

async function startWordPress() {
  // Short: MariaDB's socket lives in it.
  wpDir = await mkdtemp(path.join(os.tmpdir(), 'warta-e2e-wp-'));
  const started = Date.now();
  try {
    // The harness's watchdog stops WordPress should this process be killed before `after`.
    await execFileAsync(HARNESS, ['start', wpDir], {
      env: { ...process.env, WARTA_WP_OWNER_PID: String(process.pid) },
      timeout: 180_000,
    });
  } catch (err) {
    const why = err.code === 3 ? ' (WordPress, MariaDB or PHP is missing: make deps)' : '';
    throw new Error(`starting WordPress failed${why}: ${(err.stderr || err.message).trim()}`);
  }
  wp = JSON.parse(await readFile(path.join(wpDir, 'wp.json'), 'utf8'));
  console.error(`WordPress ${wp.wordpress_version} at ${wp.url}, started in ${Date.now() - started} ms`);
}

async function stopWordPress() {
  if (!wpDir) return;
  try {
    await execFileAsync(HARNESS, ['stop', wpDir], { timeout: 60_000 });
  } finally {
    if (failed) {
      await cp(path.join(wpDir, 'log'), path.join(OUT, 'wordpress'), { recursive: true }).catch(() => {});
    }
    await rm(wpDir, { recursive: true, force: true });
  }
}

/** Every file under `dir`. */
async function filesUnder(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? e.path, e.name));
}

/** An attribute's raw value in one HTML tag. */
function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'));
  return m ? (m[1] ?? m[2] ?? m[3]) : null;
}

const NAMED_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s) {
  return s
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&(amp|lt|gt|quot|apos|nbsp);/g, (_, e) => NAMED_ENTITIES[e]);
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
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

/** Width and height from the JPEG's start-of-frame segment. */
function jpegSize(bytes) {
  let at = 2;
  while (at + 9 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { width: bytes.readUInt16BE(at + 7), height: bytes.readUInt16BE(at + 5) };
    }
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return null;
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
