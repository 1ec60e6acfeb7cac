// `pnpm pack:all [--out <dir>] [--into <app>] [package …]`: the installable tarballs of ablate's packages, for as
// long as they are not on the npm registry. Packs each package (default: all six) with `pnpm pack` — which turns
// the workspace's `workspace:` ranges into real versions — into --out (default .packs/), prints one
// `<package> <tarball>` line each, and with --into runs `npm install <those tarballs>` in that project.
// `pnpm pack:all` builds first (package.json); `node scripts/pack-all.mjs` packs what is built.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['core', 'backend-onnx', 'backend-tfjs', 'backend-web', 'datasets', 'cli'];
const usage = 'usage: pnpm pack:all [--out <dir>] [--into <project dir>] [core|backend-onnx|backend-tfjs|backend-web|datasets|cli …]';
const fail = (message) => {
  console.error(`pack:all: ${message}\n${usage}`);
  process.exit(2);
};

const argv = process.argv.slice(2);
let out = join(root, '.packs');
let into;
const wanted = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--out' || a === '--into') {
    const value = argv[++i];
    if (!value || value.startsWith('--')) fail(`${a} needs a folder`);
    if (a === '--out') out = resolve(value);
    else into = resolve(value);
  } else if (a === '--help' || a === '-h') {
    console.log(usage);
    process.exit(0);
  } else if (PACKAGES.includes(a.replace(/^@ablate\//, ''))) wanted.push(a.replace(/^@ablate\//, ''));
  else fail(`unknown argument ${JSON.stringify(a)}`);
}
const packages = wanted.length ? wanted : PACKAGES;
if (into && !(existsSync(join(into, 'package.json')) && statSync(into).isDirectory())) {
  fail(`--into ${into}: not a project folder with a package.json (create one with \`npm init -y\`)`);
}
for (const p of packages) {
  if (!existsSync(join(root, 'packages', p, 'dist'))) fail(`packages/${p}/dist is missing: build first (\`pnpm pack:all\` does)`);
}
mkdirSync(out, { recursive: true });

// The pnpm that runs this script (npm_execpath under `pnpm pack:all`), else the pinned one through npx. pnpm 12's
// npm_execpath is its own executable (a native binary), older ones a JavaScript file that node runs.
const execpath = process.env.npm_execpath;
const pnpm = execpath && /pnpm/.test(execpath) ? (/\.[cm]?js$/.test(execpath) ? [process.execPath, [execpath]] : [execpath, []]) : ['npx', ['-y', 'pnpm@12.4.2']];
const tarballs = [];
for (const p of packages) {
  const { version } = JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8'));
  execFileSync(pnpm[0], [...pnpm[1], 'pack', '--pack-destination', out], { cwd: join(root, 'packages', p), stdio: ['ignore', 'pipe', 'inherit'] });
  const file = join(out, `ablate-${p}-${version}.tgz`);
  if (!existsSync(file)) fail(`pnpm pack did not write ${file}`);
  tarballs.push(file);
  console.log(`@ablate/${p} ${file}`);
}
if (into) {
  console.log(`npm install ${tarballs.join(' ')}   (in ${into})`);
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', ...tarballs], { cwd: into, stdio: 'inherit' });
  } catch (error) {
    // npm has printed its own error above; say which step failed, without a stack trace of this script.
    const status = typeof error?.status === 'number' && error.status > 0 ? error.status : 1;
    const offline = packages.includes('backend-onnx')
      ? '; if this machine is offline (or behind a firewall), onnxruntime-node\'s postinstall cannot download its CUDA files: rerun with ONNXRUNTIME_NODE_INSTALL=skip'
      : '';
    console.error(`pack:all: \`npm install\` in ${into} failed (exit ${status}); the tarballs are in ${out}${offline}`);
    process.exit(status);
  }
}
