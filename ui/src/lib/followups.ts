// Syncs to start once another ends: the sandbox's first start runs a full sync, then an
// access-control sync, so a new user lands on documents and identities both.
import type { JobType } from "../api/commands";

const queued = new Map<string, JobType[]>();

/** Runs `next` after the sync of connection `id` that is running now ends. */
export function queueAfter(id: string, next: JobType): void {
  queued.set(id, [...(queued.get(id) ?? []), next]);
}

/** The next sync to start for connection `id`, if one was queued (and removes it). */
export function takeNext(id: string): JobType | undefined {
  const list = queued.get(id);
  const next = list?.shift();
  if (list && list.length === 0) queued.delete(id);
  return next;
}
