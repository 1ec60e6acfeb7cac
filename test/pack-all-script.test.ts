import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `pnpm pack:all --into <app>` is the README's install command. When its `npm install` fails (here: the app's
// package.json is not JSON; for a stranger usually onnxruntime-node's postinstall offline), the script must say
// which step failed and how to get past it, with npm's exit status — not a stack trace of scripts/pack-all.mjs.
const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ablate-pack-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/pack-all.mjs packages', () => {
  it('knows every publishable package of the repository (backend-web included), and refuses the private ones', () => {
    const publishable = readdirSync(join(root, 'packages'))
      .filter((d) => !(JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as { private?: boolean }).private)
      .sort();
    expect(publishable).toEqual(['backend-onnx', 'backend-tfjs', 'backend-web', 'cli', 'core', 'datasets']);
    const help = spawnSync(process.execPath, [join(root, 'scripts/pack-all.mjs'), '--help'], { cwd: root, encoding: 'utf8' });
    expect(help.status).toBe(0);
    const listed = /\[([a-z|-]+) …\]/.exec(help.stdout)![1]!.split('|');
    expect([...listed].sort()).toEqual(publishable);
    const testing = spawnSync(process.execPath, [join(root, 'scripts/pack-all.mjs'), '--out', join(dir, 'none'), 'testing'], { cwd: root, encoding: 'utf8' });
    expect(testing.status).toBe(2);
    expect(testing.stderr).toMatch(/^pack:all: unknown argument "testing"/);
  });
});

describe('scripts/pack-all.mjs under `pnpm pack:all`', () => {
  it('runs the pnpm of npm_execpath as an executable when it is not a JavaScript file (pnpm 12 from npm is a native binary)', () => {
    // A stand-in `pnpm` that is not JavaScript (a shell script, as the real one is an ELF file): it leaves a mark and
    // hands over to the pinned pnpm. (before: `node <npm_execpath>` — a SyntaxError, and `pnpm test:pack` failed
    // before any test ran.)
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const fake = join(bin, 'pnpm');
    writeFileSync(fake, `#!/bin/sh\necho "$@" >> "${join(dir, 'pnpm-calls')}"\nexec npx -y pnpm@12.4.2 "$@"\n`);
    chmodSync(fake, 0o755);
    const r = spawnSync(process.execPath, [join(root, 'scripts/pack-all.mjs'), '--out', join(dir, 'exec'), 'core'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_execpath: fake } });
    expect(r.stderr).not.toMatch(/SyntaxError/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`@ablate/core ${join(dir, 'exec', 'ablate-core-0.1.0.tgz')}\n`);
    expect(readFileSync(join(dir, 'pnpm-calls'), 'utf8')).toBe(`pack --pack-destination ${join(dir, 'exec')}\n`);
  }, 120_000);
});

describe('scripts/pack-all.mjs --into', () => {
  it('reports a failed npm install in one line with the offline hint, exit status non-zero, no stack trace', () => {
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{\n');
    const r = spawnSync(process.execPath, [join(root, 'scripts/pack-all.mjs'), '--out', join(dir, 'out'), '--into', app, 'core', 'backend-onnx'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain(`@ablate/core ${join(dir, 'out', 'ablate-core-0.1.0.tgz')}`);
    expect(r.stderr).toContain('EJSONPARSE'); // npm's own message stays
    expect(r.stderr).toContain(`pack:all: \`npm install\` in ${app} failed (exit ${r.status}); the tarballs are in ${join(dir, 'out')}`);
    expect(r.stderr).toContain('rerun with ONNXRUNTIME_NODE_INSTALL=skip');
    expect(r.stderr).not.toMatch(/^\s+at .*pack-all\.mjs/m);
    expect(r.stderr).not.toMatch(/^Error: Command failed/m);
  }, 120_000);
});
