// The outbox in the window: one reactive list, fed by the shell's change events.
import { isTauri } from "./api";
import type { OutboxEntry } from "./bindings/OutboxEntry";
import type { ItemContent } from "./bindings/ItemContent";
import { settled, upsertEntry } from "./outbox";
import { outboxCommands } from "./shell";

export const outbox = $state<{ entries: OutboxEntry[]; ready: boolean }>({ entries: [], ready: false });

const watchers = new Set<(e: OutboxEntry) => void>();

function onEntry(e: OutboxEntry): void {
  outbox.entries = upsertEntry(outbox.entries, e);
  for (const w of watchers) w(e);
}

/** Loads the list and listens for changes (once per window; again after a reload). */
export async function startOutbox(): Promise<void> {
  if (!isTauri() || outbox.ready) return;
  const list = await outboxCommands.list(onEntry);
  // Events that came while the list loaded are newer than it.
  let merged = list;
  for (const e of outbox.entries) merged = upsertEntry(merged, e);
  outbox.entries = merged;
  outbox.ready = true;
}

/** Waits up to `ms` for entry `id` to be received or to fail; its state then (or null). */
export function waitSettled(id: number, ms: number): Promise<OutboxEntry | null> {
  const now = outbox.entries.find((e) => e.id === id);
  if (now && settled(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      watchers.delete(watch);
      resolve(null);
    }, ms);
    const watch = (e: OutboxEntry) => {
      if (e.id !== id || !settled(e)) return;
      clearTimeout(timer);
      watchers.delete(watch);
      resolve(e);
    };
    watchers.add(watch);
  });
}

export async function removeEntry(id: number): Promise<void> {
  await outboxCommands.remove(id);
  outbox.entries = outbox.entries.filter((e) => e.id !== id);
}

export async function retryEntry(id: number): Promise<void> {
  onEntry(await outboxCommands.retry(id));
}

/** A failed entry opened for editing: the new-item form starts from it, and replaces it on save. */
export const editing = $state<{ from: { id: number; content: ItemContent; paths: string[] } | null }>({ from: null });
