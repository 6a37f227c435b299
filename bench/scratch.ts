/**
 * Scratch folders of the benchmark, removed when the whole run is over rather than after each
 * section. Why: on ext4 without a journal (this machine's root file system), creating a file scans
 * the inode table past every inode freed in the last minute or more (the kernel's
 * `recently_deleted` check in `find_inode_bit`). Removing the 120,000 files of a 10,000-note run
 * right before the next timed run made every file the next run created slower: ~4–8 s more system
 * time on 1,000 notes, measured with `perf` here. One section's cleanup must not be timed in the next.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const pending = new Set<string>();
let deferring = false;

/** A fresh folder under the system's temp folder. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Removes `dir` now, or at `removeDeferred()` while removal is deferred. */
export function removeScratch(dir: string): void {
  if (deferring) pending.add(dir);
  else rmSync(dir, { recursive: true, force: true });
}

/** From now on, `removeScratch` only queues: the folders go at `removeDeferred()`. */
export function deferRemoval(): void {
  deferring = true;
}

/** Removes every queued folder and stops deferring. */
export function removeDeferred(): void {
  deferring = false;
  for (const dir of pending) rmSync(dir, { recursive: true, force: true });
  pending.clear();
}
