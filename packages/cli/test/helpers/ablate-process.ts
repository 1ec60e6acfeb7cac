import { spawn, type ChildProcess } from 'node:child_process';

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
