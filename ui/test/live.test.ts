// Live updates: the event-stream parser over real byte streams, and the reconnecting connection
// against a real HTTP server on 127.0.0.1 (node:http), the way the hub serves `GET /events`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { ChangeEvent } from "../src/lib/bindings/ChangeEvent";
import {
  backoffDelay,
  Coalescer,
  LiveConnection,
  readEvents,
  SseParser,
  touchesItem,
  touchesQueues,
  type LiveState,
  type SseMessage,
} from "../src/lib/live";

const enc = new TextEncoder();

/** A real ReadableStream delivering `bytes` in the given chunks. */
function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

async function parseChunks(chunks: Uint8Array[]): Promise<{ got: SseMessage[]; parser: SseParser }> {
  const parser = new SseParser();
  const got: SseMessage[] = [];
  await readEvents(streamOf(chunks), parser, (m) => got.push(m));
  return { got, parser };
}

describe("event-stream parser", () => {
  const text =
    "\ufeff: keep-alive\n\nid: 7\ndata: {\"t\":\"Banjir é\"}\n\nevent: x\r\ndata:one\r\ndata:  two\r\n\r\nid: 9\rdata: b\r\r";
  const expected: SseMessage[] = [
    { event: "message", data: '{"t":"Banjir é"}', id: "7" },
    { event: "x", data: "one\n two", id: "7" },
    { event: "message", data: "b", id: "9" },
  ];

  test("the same events whether the bytes come at once or split anywhere (also inside a character)", async () => {
    const bytes = enc.encode(text);
    expect((await parseChunks([bytes])).got).toEqual(expected);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { got } = await parseChunks([bytes.slice(0, cut), bytes.slice(cut)]);
      expect(got, `split at ${cut}`).toEqual(expected);
    }
    const oneByOne = [...bytes].map((b) => new Uint8Array([b]));
    const { got, parser } = await parseChunks(oneByOne);
    expect(got).toEqual(expected);
    expect(parser.lastEventId).toBe("9");
  });

  test("an event without data only moves the id; an unfinished one is not dispatched", async () => {
    const { got, parser } = await parseChunks([enc.encode("id: 42\n\nid: 43\ndata: x\n")]);
    expect(got).toEqual([]);
    expect(parser.lastEventId).toBe("43");
  });
});

describe("waits and filters", () => {
  test("backoff doubles from the base up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, 1000, 30_000))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  const ev = (kind: ChangeEvent["kind"], item_id: number | null): ChangeEvent => ({
    seq: 1,
    kind,
    item_id,
    at: "2026-11-23T01:00:00Z",
    change: "x",
  });

  test("which events reload a queue or the open item", () => {
    expect(touchesItem(ev("comment", 3), 3)).toBe(true);
    expect(touchesItem(ev("item", 4), 3)).toBe(false);
    expect(touchesItem(ev("resync", null), 3)).toBe(true);
    expect(touchesQueues(ev("lock", 3))).toBe(true);
    expect(touchesQueues(ev("users", null))).toBe(false);
    expect(touchesQueues(ev("comment", 3))).toBe(false);
  });

  test("a burst of events is one flush", () => {
    vi.useFakeTimers();
    try {
      const flushed: number[][] = [];
      const c = new Coalescer<number>((b) => flushed.push(b), 250);
      for (let i = 0; i < 5; i++) c.push(i);
      expect(flushed).toEqual([]);
      vi.advanceTimersByTime(250);
      expect(flushed).toEqual([[0, 1, 2, 3, 4]]);
      c.push(5);
      c.cancel();
      vi.advanceTimersByTime(1000);
      expect(flushed).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

// ---------------------------------------------------------------- against a real server

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server | null = null;

afterEach(async () => {
  const s = server;
  server = null;
  if (s) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Serves each connection with the next handler; records the Last-Event-ID each one sent. */
async function serve(handlers: Handler[]): Promise<{ url: string; lastIds: (string | null)[] }> {
  const lastIds: (string | null)[] = [];
  server = createServer((req, res) => {
    lastIds.push((req.headers["last-event-id"] as string | undefined) ?? null);
    const h = handlers.shift();
    if (h) h(req, res);
    else {
      res.writeHead(503);
      res.end();
    }
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/v1/events`, lastIds };
}

function sse(res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "text/event-stream" });
}

function event(seq: number, kind: ChangeEvent["kind"], item_id: number | null = null): string {
  const e: ChangeEvent = { seq, kind, item_id, at: "2026-11-23T01:00:00Z", change: kind };
  return `id: ${seq}\ndata: ${JSON.stringify(e)}\n\n`;
}

function connection(url: string, events: ChangeEvent[], states: LiveState[], waits: number[], extra = {}) {
  return new LiveConnection({
    open: (lastEventId, signal) =>
      fetch(url, { headers: lastEventId === null ? {} : { "Last-Event-ID": lastEventId }, signal }),
    onEvent: (e) => events.push(e),
    onState: (s) => states.push(s),
    baseDelayMs: 1000,
    maxDelayMs: 30_000,
    // Counted, not waited: the test is about what is waited, not about time.
    sleep: async (ms) => void waits.push(ms),
    ...extra,
  });
}

describe("live connection", () => {
  test("reconnects by itself with growing waits, resuming from the last event id", async () => {
    const events: ChangeEvent[] = [];
    const states: LiveState[] = [];
    const waits: number[] = [];
    let c: LiveConnection | null = null;
    const { url, lastIds } = await serve([
      // First connection: ready, one change, then the connection drops.
      (_req, res) => {
        sse(res);
        res.write(": keep-alive\n\n" + event(5, "ready"));
        res.end(event(6, "item", 3));
      },
      // The hub is restarting.
      (_req, res) => {
        res.writeHead(503);
        res.end("starting");
      },
      // Back: what was missed, then ready; the test stops the connection after it.
      (_req, res) => {
        sse(res);
        res.write(event(7, "comment", 3) + event(7, "ready"));
      },
    ]);
    c = connection(url, events, states, waits, {
      onEvent: (e: ChangeEvent) => {
        events.push(e);
        if (e.seq === 7 && e.kind === "ready") c?.stop();
      },
    });
    await c.run();
    expect(events.map((e) => [e.seq, e.kind])).toEqual([
      [5, "ready"],
      [6, "item"],
      [7, "comment"],
      [7, "ready"],
    ]);
    expect(lastIds).toEqual([null, "6", "6"]);
    expect(waits).toEqual([1000, 2000]);
    expect(states).toEqual(["connecting", "live", "reconnecting", "live", "off"]);
    expect(c.lastEventId).toBe("7");
    expect(c.opened).toBe(2);
  });

  test("a 401 stops the connection and says the session is gone", async () => {
    const events: ChangeEvent[] = [];
    const states: LiveState[] = [];
    const waits: number[] = [];
    let gone = 0;
    const { url } = await serve([
      (_req, res) => {
        res.writeHead(401, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ code: "unauthenticated", message: "sign in first" }));
      },
    ]);
    const c = connection(url, events, states, waits, { onUnauthenticated: () => gone++ });
    await c.run();
    expect(gone).toBe(1);
    expect(waits).toEqual([]);
    expect(states).toEqual(["connecting", "off"]);
  });

  test("stop() ends an open stream", async () => {
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const { url } = await serve([
      (_req, res) => {
        sse(res);
        res.write(event(1, "ready"));
        opened();
      },
    ]);
    const events: ChangeEvent[] = [];
    const c = connection(url, events, [], []);
    const running = c.run();
    await open;
    c.stop();
    await running;
    expect(c.state).toBe("off");
  });
});
