import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A spawned `ablate` process: its combined output so far and its exit code. */
export interface Proc {
  proc: ChildProcess;
  text(): string;
  exit: Promise<number | null>;
}

/**
 * Spawns `node <bin> …args` in `cwd` with stdout and stderr collected, and records each child in `children`
 * (the distributed tests kill what is left after each test).
 */
export function ablateSpawner(bin: string, cwd: string, children: ChildProcess[]): (args: string[], env?: Record<string, string>) => Proc {
  return (args, env = {}) => {
    const proc = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.push(proc);
    let text = '';
    proc.stdout!.on('data', (d) => (text += d));
    proc.stderr!.on('data', (d) => (text += d));
    const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    return { proc, text: () => text, exit };
  };
}

/** Runs `node <bin> …args` in `cwd` to its end: the exit code, stdout and stderr. */
export function runAblate(bin: string, cwd: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The rows of a JSON-lines results file (blank lines skipped). */
export function jsonlRows(file: string): any[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
