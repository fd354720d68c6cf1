// Measures the desktop app's cold start (launch → login screen usable) and its idle memory
// (resident memory of the app and its WebKit processes, 10 s after the login screen shows).
// Bounded: 3 launches. Run with `make bench-app`; prints a table and writes target/bench-app.md.

import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { Session, startTauriDriver, testIdCss, waitFor } from './webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APP = process.env.WARTA_APP ?? path.join(ROOT, 'target/debug/warta-app');
const DRIVER = process.env.TAURI_DRIVER ?? 'tauri-driver';
const RUNS = 3;

/** pid → { ppid, comm, rssKb, pssKb } for every process we can read. */
async function processes() {
  const out = new Map();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = await readFile(`/proc/${name}/status`, 'utf8');
      const field = (k) => status.match(new RegExp(`^${k}:\\s+(\\S+)`, 'm'))?.[1];
      let pssKb = 0;
      try {
        const rollup = await readFile(`/proc/${name}/smaps_rollup`, 'utf8');
        pssKb = Number(rollup.match(/^Pss:\s+(\d+)/m)?.[1] ?? 0);
      } catch {}
      out.set(Number(name), {
        ppid: Number(field('PPid')),
        comm: field('Name'),
        rssKb: Number(field('VmRSS') ?? 0),
        pssKb,
      });
    } catch {}
  }
  return out;
}

/** The app and everything it spawned (WebKit's web and network processes). */
async function appTree() {
  const all = await processes();
  const roots = [...all].filter(([, p]) => p.comm === 'warta-app').map(([pid]) => pid);
  const tree = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of all) {
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree].map((pid) => ({ pid, ...all.get(pid) }));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (let run = 1; run <= RUNS; run++) {
  const data = await mkdtemp(path.join(os.tmpdir(), 'warta-bench-'));
  const driver = await startTauriDriver({ binary: DRIVER, logFile: path.join(ROOT, 'target/bench-app-driver.log') });
  let session;
  try {
    const t0 = performance.now();
    session = await Session.create(driver.url, {
      alwaysMatch: { 'tauri:options': { application: APP, args: ['--data', data, ...(run === 1 ? [] : ['--demo'])] } },
    });
    // First run: an empty office (set-up screen); later runs: the demo office (login screen).
    const ready = run === 1 ? 'setup-username' : 'login-username';
    await waitFor(async () => (await session.findAll(testIdCss(ready))).length > 0, {
      timeout: 60_000,
      interval: 25,
      message: ready,
    });
    const coldMs = performance.now() - t0;
    await sleep(10_000);
    const tree = await appTree();
    const rssMb = tree.reduce((s, p) => s + p.rssKb, 0) / 1024;
    const pssMb = tree.reduce((s, p) => s + p.pssKb, 0) / 1024;
    const appMb = tree.filter((p) => p.comm === 'warta-app').reduce((s, p) => s + p.rssKb, 0) / 1024;
    rows.push({ run, screen: ready.split('-')[0], coldMs, rssMb, pssMb, appMb, procs: tree.length });
    console.log(
      `run ${run} (${ready}): ready in ${coldMs.toFixed(0)} ms; idle RSS ${rssMb.toFixed(0)} MB ` +
        `(PSS ${pssMb.toFixed(0)} MB) over ${tree.length} processes, of which warta-app ${appMb.toFixed(0)} MB`,
    );
  } finally {
    try {
      await session?.delete();
    } catch {}
    await driver.stop();
    await rm(data, { recursive: true, force: true });
  }
}

const table = [
  '| measure | median of runs |',
  '|---|---|',
  `| cold start to a usable screen (WebDriver session → first form field) | ${median(rows.map((r) => r.coldMs)).toFixed(0)} ms |`,
  `| idle memory, app + WebKit processes, RSS | ${median(rows.map((r) => r.rssMb)).toFixed(0)} MB |`,
  `| idle memory, app + WebKit processes, PSS (shared pages split) | ${median(rows.map((r) => r.pssMb)).toFixed(0)} MB |`,
  `| idle memory, warta-app process alone (shell + embedded hub), RSS | ${median(rows.map((r) => r.appMb)).toFixed(0)} MB |`,
];
const md = `# Desktop app start-up and idle memory\n\nBinary: ${path.relative(ROOT, APP)}; ${RUNS} launches under Xvfb.\n\n${table.join('\n')}\n`;
console.log(`\n${md}`);
await writeFile(path.join(ROOT, 'target/bench-app.md'), md);
