// Live updates: the hub's change feed (`GET /api/v1/events`, server-sent events; docs/API.md).
// `EventSource` cannot send the Authorization header, so the stream is read with fetch: bytes go
// through `SseParser` (the HTML standard's event-stream format), events to listeners. The
// connection reopens by itself with growing waits, sending `Last-Event-ID` so the hub replays
// what was missed (or says `resync`). Screens react through `Coalescer`, which turns a burst of
// events into one refetch.
import type { ChangeEvent } from "./bindings/ChangeEvent";

export type SseMessage = { event: string; data: string; id: string | null };

/** Incremental event-stream parser: bytes may arrive split anywhere, lines end in LF, CRLF or CR. */
export class SseParser {
  private decoder = new TextDecoder("utf-8");
  private line = "";
  private afterCr = false;
  private started = false;
  private eventType = "";
  private data: string[] = [];
  private lastId: string | null = null;

  /** The id to send as `Last-Event-ID` (also moved by events without data). */
  get lastEventId(): string | null {
    return this.lastId;
  }

  push(bytes: Uint8Array): SseMessage[] {
    const out: SseMessage[] = [];
    const text = this.decoder.decode(bytes, { stream: true });
    for (const ch of text) {
      if (this.afterCr) {
        this.afterCr = false;
        if (ch === "\n") continue;
      }
      if (ch === "\r") {
        this.afterCr = true;
        this.endLine(out);
      } else if (ch === "\n") {
        this.endLine(out);
      } else {
        this.line += ch;
      }
    }
    return out;
  }

  private endLine(out: SseMessage[]): void {
    let line = this.line;
    this.line = "";
    if (!this.started) {
      this.started = true;
      if (line.startsWith("\ufeff")) line = line.slice(1);
    }
    if (line === "") {
      if (this.data.length > 0) {
        out.push({ event: this.eventType || "message", data: this.data.join("\n"), id: this.lastId });
      }
      this.eventType = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventType = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
  }
}

/** Reads a response body to its end, handing each complete event to `onMessage`. */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  parser: SseParser,
  onMessage: (m: SseMessage) => void,
): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const m of parser.push(value)) onMessage(m);
    }
  } finally {
    reader.releaseLock();
  }
}

export type LiveState = "connecting" | "live" | "reconnecting" | "off";

/** How a connection reaches the hub; `api.ts` gives the real one. */
export type Opener = (lastEventId: string | null, signal: AbortSignal) => Promise<Response>;

export type LiveOptions = {
  open: Opener;
  onEvent: (e: ChangeEvent) => void;
  onState?: (s: LiveState) => void;
  /** The hub said 401: the session is gone; the connection stops. */
  onUnauthenticated?: () => void;
  /** First wait before reopening, doubled per failure up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Waits `ms` (or until aborted); tests may count the waits. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
};

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** The wait before reopening after `failures` failures in a row: 1 s, 2 s, 4 s… at most `max`. */
export function backoffDelay(failures: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.max(0, Math.min(failures - 1, 16)));
}

/** One live connection to the hub that keeps itself open until `stop()`. */
export class LiveConnection {
  private readonly opts: Required<Omit<LiveOptions, "onState" | "onUnauthenticated">> &
    Pick<LiveOptions, "onState" | "onUnauthenticated">;
  private readonly abort = new AbortController();
  private parser = new SseParser();
  private stateNow: LiveState = "off";
  /** Reopens since the last event arrived. */
  failures = 0;
  /** Times the stream was opened (for tests and diagnostics). */
  opened = 0;

  constructor(opts: LiveOptions) {
    this.opts = { baseDelayMs: 1000, maxDelayMs: 30_000, sleep: abortableSleep, ...opts };
  }

  get state(): LiveState {
    return this.stateNow;
  }

  get lastEventId(): string | null {
    return this.parser.lastEventId;
  }

  private setState(s: LiveState): void {
    if (s === this.stateNow) return;
    this.stateNow = s;
    this.opts.onState?.(s);
  }

  /** Runs until `stop()` (or a 401). Resolves when it stopped. */
  async run(): Promise<void> {
    const signal = this.abort.signal;
    this.setState("connecting");
    while (!signal.aborted) {
      try {
        const res = await this.opts.open(this.parser.lastEventId, signal);
        if (res.status === 401) {
          this.stop();
          this.opts.onUnauthenticated?.();
          break;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        this.opened++;
        // Connected: from here on, a drop is a reconnect, and the id carries over.
        const lastId = this.parser.lastEventId;
        this.parser = new SseParser();
        if (lastId !== null) this.parser.push(new TextEncoder().encode(`id: ${lastId}\n\n`));
        this.setState("live");
        await readEvents(res.body, this.parser, (m) => {
          let e: ChangeEvent;
          try {
            e = JSON.parse(m.data) as ChangeEvent;
          } catch {
            return;
          }
          this.failures = 0;
          this.opts.onEvent(e);
        });
      } catch {
        // A refused connection, a dropped one, or our own abort: the loop decides.
      }
      if (signal.aborted) break;
      this.failures++;
      this.setState("reconnecting");
      await this.opts.sleep(backoffDelay(this.failures, this.opts.baseDelayMs, this.opts.maxDelayMs), signal);
    }
    this.setState("off");
  }

  stop(): void {
    this.abort.abort();
  }
}

/**
 * Collects events and calls `flush` once with all of them, `waitMs` after the first: a burst of
 * changes (a publish touches several rows) becomes one refetch, still well within a second.
 */
export class Coalescer<T> {
  private batch: T[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly flush: (batch: T[]) => void,
    private readonly waitMs = 250,
  ) {}

  push(item: T): void {
    this.batch.push(item);
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        const batch = this.batch;
        this.batch = [];
        this.flush(batch);
      }, this.waitMs);
    }
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.batch = [];
  }
}

/** Whether an event should make a queue screen reload. */
export function touchesQueues(e: ChangeEvent): boolean {
  return e.kind !== "users" && e.kind !== "targets" && e.kind !== "ready" && e.kind !== "comment";
}

/** Whether an event concerns the open item `id` (a resync concerns everything). */
export function touchesItem(e: ChangeEvent, id: number): boolean {
  return e.kind === "resync" || (e.item_id !== null && e.item_id === id);
}
