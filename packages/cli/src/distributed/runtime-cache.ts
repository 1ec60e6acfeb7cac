import { createContainer, type AblateConfig, type AblateRuntime } from '@ablate/core';

interface Entry {
  free: AblateRuntime[];
  busy: number;
  lastUsed: number;
}

/**
 * A worker's loaded runs: for each (run, config hash, model fingerprint) up to `concurrency` runtimes (one per job
 * in flight; a runtime is not re-entrant), created on the run's first job and kept while the worker serves it.
 * When a job of another run arrives, idle runtimes of other runs are disposed; so are runs idle for `idleMs`.
 */
export class RuntimeCache {
  private readonly entries = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly idleMs: number, private readonly warn: (m: string) => void) {
    this.timer = setInterval(() => void this.evict((_, e) => e.busy === 0 && Date.now() - e.lastUsed > this.idleMs), Math.min(idleMs, 30_000));
    this.timer.unref();
  }

  async acquire(key: string, config: AblateConfig, baseDir: string): Promise<AblateRuntime> {
    await this.evict((k, e) => k !== key && e.busy === 0);
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { free: [], busy: 0, lastUsed: Date.now() }));
    entry.busy++;
    try {
      return entry.free.pop() ?? (await createContainer(config, { baseDir, warn: this.warn }));
    } catch (error) {
      entry.busy--;
      throw error;
    }
  }

  release(key: string, rt: AblateRuntime): void {
    const entry = this.entries.get(key);
    if (!entry) return void rt.dispose();
    entry.busy--;
    entry.lastUsed = Date.now();
    entry.free.push(rt);
  }

  /** How many runs have runtimes loaded (for logs and tests). */
  get size(): number {
    return this.entries.size;
  }

  private async evict(pred: (key: string, e: Entry) => boolean): Promise<void> {
    for (const [key, e] of [...this.entries]) {
      if (!pred(key, e)) continue;
      this.entries.delete(key);
      await Promise.all(e.free.map((rt) => rt.dispose()));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.evict(() => true);
  }
}
