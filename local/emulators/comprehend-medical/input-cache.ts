/**
 * Job input reads shared by the jobs that read the same object: a batch's entities job and SNOMED CT
 * job list the same files and usually finish at the same virtual time, and every GetObject costs
 * the offline runtime a request on its main thread. Reads are keyed by bucket, key and the ETag the
 * job listed, so a replaced object is read again; a read in flight is shared, not repeated. Each
 * entry serves `reads` jobs at most and the cache holds `maxBytes` at most, oldest out first; a
 * miss only means one more GetObject, and a failed read is not kept.
 */
export class InputCache {
  private readonly entries = new Map<string, { read: Promise<Uint8Array>; left: number; bytes: number }>();
  private held = 0;
  /** Reads answered from the cache (for tests). */
  hits = 0;

  constructor(
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly reads = 2,
  ) {}

  /** The bytes of this object version: from an earlier (or running) read of another job, or `fetch`. */
  read(bucket: string, key: string, etag: string | undefined, fetch: () => Promise<Uint8Array>): Promise<Uint8Array> {
    if (etag === undefined || this.reads <= 1) return fetch();
    const id = `${bucket}\n${key}\n${etag}`;
    const entry = this.entries.get(id);
    if (entry) {
      this.hits += 1;
      entry.left -= 1;
      if (entry.left <= 0) this.drop(id);
      return entry.read;
    }
    const read = fetch();
    const created = { read, left: this.reads - 1, bytes: 0 };
    this.entries.set(id, created);
    read.then(
      (bytes) => {
        if (this.entries.get(id) !== created) return;
        if (bytes.length > this.maxBytes) return this.drop(id);
        created.bytes = bytes.length;
        this.held += bytes.length;
        for (const oldest of this.entries.keys()) {
          if (this.held <= this.maxBytes) break;
          this.drop(oldest);
        }
      },
      () => {
        if (this.entries.get(id) === created) this.drop(id);
      },
    );
    return read;
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.held -= entry.bytes;
  }
}
