// A small W3C WebDriver client over Node's built-ins, for tauri-driver + WebKitWebDriver.
// Every call and every wait is bounded, so a hung window fails the test instead of the CI job.

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** How long one WebDriver HTTP call may take (session creation launches the app). */
const REQUEST_TIMEOUT_MS = 90_000;
/** Default bound of `waitFor`. */
export const WAIT_MS = 20_000;

export class WebDriverError extends Error {
  constructor(method, url, status, value) {
    super(`${method} ${url} → ${status} ${value?.error ?? ''}: ${value?.message ?? JSON.stringify(value)}`);
    this.status = status;
    this.error = value?.error;
  }
}

/** Polls `probe` until it returns a truthy value (or stops throwing), for at most `timeout` ms. */
export async function waitFor(probe, { timeout = WAIT_MS, interval = 200, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${why}`);
    }
    await sleep(interval);
  }
}

/**
 * Makes `dir` and removes what an earlier run of one test file left in it: the entries whose
 * names `mine` accepts. The test files share target/e2e/, so none may clear the others' files.
 */
export async function clearOutputs(dir, mine) {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) {
    if (mine(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** A port nobody listens on right now. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts tauri-driver in its own process group (it spawns WebKitWebDriver, which spawns the app),
 * so `stop()` can end all three at once. `env` is the environment of all three (default: ours);
 * `prefix` is a command that runs tauri-driver, e.g. `['scripts/with-keyring']` for a keyring of
 * its own — it joins the same process group, so `stop()` ends it too.
 */
export async function startTauriDriver({ binary, logFile, env = process.env, prefix = [] }) {
  const port = await freePort();
  const nativePort = await freePort();
  await mkdir(path.dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile);
  const argv = [...prefix, binary, '--port', String(port), '--native-port', String(nativePort)];
  const child = spawn(argv[0], argv.slice(1), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  child.on('error', (err) => {
    exited = { error: err };
  });

  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (exited) throw new Error(`tauri-driver exited: ${JSON.stringify(exited)} (see ${logFile})`);
      const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) });
      return res.ok;
    },
    { timeout: 30_000, message: `tauri-driver on ${url}` },
  );

  return {
    url,
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      for (const signal of ['SIGTERM', 'SIGKILL']) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          return; // already gone
        }
        // Unref'd: a pending timer would keep the test process alive after the driver is gone.
        const done = await Promise.race([gone.then(() => true), sleep(5_000, false, { ref: false })]);
        if (done) return;
      }
    },
  };
}

export class Session {
  static async create(driverUrl, capabilities) {
    const value = await call('POST', `${driverUrl}/session`, { capabilities });
    return new Session(driverUrl, value.sessionId);
  }

  constructor(driverUrl, id) {
    this.base = `${driverUrl}/session/${id}`;
    this.id = id;
  }

  cmd(method, path, body) {
    return call(method, `${this.base}${path}`, body);
  }

  async delete() {
    await call('DELETE', this.base);
  }

  // --- elements ---

  async findAll(css) {
    const found = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return found.map((el) => new Element(el[ELEMENT]));
  }

  /** Elements matching `css` inside `parent`, now. */
  async findAllWithin(parent, css) {
    const found = await this.cmd('POST', `/element/${parent.id}/elements`, { using: 'css selector', value: css });
    return found.map((el) => new Element(el[ELEMENT]));
  }

  /** The first element matching `css`, waiting for it to appear. */
  async find(css, opts = {}) {
    return waitFor(async () => (await this.findAll(css))[0], { message: css, ...opts });
  }

  findByTestId(testId, opts) {
    return this.find(testIdCss(testId), opts);
  }

  async exists(testId) {
    return (await this.findAll(testIdCss(testId))).length > 0;
  }

  async isDisplayed(testIdOrEl) {
    const el = await this.resolve(testIdOrEl);
    return this.cmd('GET', `/element/${el}/displayed`);
  }

  async click(testIdOrEl) {
    // Clicks can race a re-render that detaches the element; retry on a fresh lookup.
    await waitFor(
      async () => {
        const target = await this.resolve(testIdOrEl);
        await this.cmd('POST', `/element/${target}/click`, {});
        return true;
      },
      { timeout: 10_000, message: `click on ${testIdOrEl}` },
    );
  }

  async sendKeys(testIdOrEl, text) {
    const el = await this.resolve(testIdOrEl);
    await this.cmd('POST', `/element/${el}/value`, { text });
  }

  async clear(testIdOrEl) {
    const el = await this.resolve(testIdOrEl);
    await this.cmd('POST', `/element/${el}/clear`, {});
  }

  async text(testIdOrEl) {
    const el = await this.resolve(testIdOrEl);
    return this.cmd('GET', `/element/${el}/text`);
  }

  async attribute(testIdOrEl, name) {
    const el = await this.resolve(testIdOrEl);
    return this.cmd('GET', `/element/${el}/attribute/${encodeURIComponent(name)}`);
  }

  async property(testIdOrEl, name) {
    const el = await this.resolve(testIdOrEl);
    return this.cmd('GET', `/element/${el}/property/${encodeURIComponent(name)}`);
  }

  async tagName(testIdOrEl) {
    const el = await this.resolve(testIdOrEl);
    return (await this.cmd('GET', `/element/${el}/name`)).toLowerCase();
  }

  /** Replaces the value of a form control the way a user would, falling back to a script. */
  async fill(testId, value) {
    const el = await this.findByTestId(testId);
    const tag = await this.tagName(el);
    if (tag === 'select') {
      await this.selectOption(el, value);
      return;
    }
    if (tag !== 'input' && tag !== 'textarea') {
      // A contenteditable editor: type, with Enter for line breaks.
      await this.click(el);
      await this.sendKeys(el, value.replaceAll('\n', '\uE007'));
      return;
    }
    if (!value.includes('\n')) {
      await this.clear(el);
      await this.sendKeys(el, value);
      if ((await this.property(el, 'value')) === value) return;
    }
    const set = await this.execute(
      `const [el, value] = arguments;
       const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
       Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
       el.dispatchEvent(new Event('input', { bubbles: true }));
       el.dispatchEvent(new Event('change', { bubbles: true }));
       return el.value;`,
      [elementRef(el), value],
    );
    if (set !== value) throw new Error(`${testId} holds ${JSON.stringify(set)}, wanted ${JSON.stringify(value)}`);
  }

  /** Picks the option whose value or label is `wanted`, else the first non-empty one; returns its value. */
  async selectOption(el, wanted) {
    return this.execute(
      `const [el, wanted] = arguments;
       const options = [...el.options];
       const pick = options.find(o => o.value === wanted || o.textContent.trim() === wanted)
         ?? options.find(o => o.value !== '' && !o.disabled);
       if (!pick) return null;
       el.value = pick.value;
       el.dispatchEvent(new Event('input', { bubbles: true }));
       el.dispatchEvent(new Event('change', { bubbles: true }));
       return el.value;`,
      [elementRef(el), wanted],
    );
  }

  // --- frames ---

  async switchToFrame(testIdOrEl) {
    const el = await this.resolve(testIdOrEl);
    await this.cmd('POST', '/frame', { id: { [ELEMENT]: el } });
  }

  async switchToParentFrame() {
    await this.cmd('POST', '/frame/parent', {});
  }

  // --- scripts ---

  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** Runs `script`; it must call `arguments[arguments.length - 1](result)`. */
  executeAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args });
  }

  // --- screenshots ---

  async screenshot(file) {
    const base64 = await this.cmd('GET', '/screenshot');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, Buffer.from(base64, 'base64'));
    return file;
  }

  /** A test id is looked up (waiting for it); an element handle is used as is. */
  async resolve(testIdOrEl) {
    const el = typeof testIdOrEl === 'string' ? await this.findByTestId(testIdOrEl) : testIdOrEl;
    return el.id;
  }
}

/** A handle on an element the driver found. */
export class Element {
  constructor(id) {
    this.id = id;
  }
}

export function testIdCss(testId) {
  return `[data-testid="${testId}"]`;
}

export function elementRef(el) {
  return { [ELEMENT]: el.id };
}

/**
 * tauri-driver keeps a pool of connections to WebKitWebDriver; when it picks one WebKitWebDriver
 * has just closed, it drops our request ("socket hang up") before the command ran. Such a call is
 * sent again, a few times; a command that did run answers with a status, which is never retried.
 */
async function call(method, url, body) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await callOnce(method, url, body);
    } catch (err) {
      const dropped = err.code === 'ECONNRESET' || /socket hang up/.test(err.message);
      if (!dropped || attempt >= 3) throw err;
      await sleep(100 * attempt);
    }
  }
}

// node:http rather than fetch: one connection per call, and a per-call timeout that covers the
// whole exchange, so a stuck command cannot hold a pooled socket for the calls after it.
function callOnce(method, url, body) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers: {
          connection: 'close',
          ...(payload ? { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length } : {}),
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const parts = [];
        res.on('data', (part) => parts.push(part));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : {};
          } catch {
            reject(new WebDriverError(method, url, res.statusCode, { message: text.slice(0, 500) }));
            return;
          }
          if (res.statusCode < 200 || res.statusCode > 299) {
            reject(new WebDriverError(method, url, res.statusCode, json.value));
          } else {
            resolve(json.value);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
