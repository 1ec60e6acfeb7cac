import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { builtinPlugins, KNOWN_PLUGIN_PACKAGES, registry, validateConfig, type PluginRegistry } from '@ablate/core';
import '@ablate/backend-onnx';
import '@ablate/backend-tfjs';
import '@ablate/datasets';
import '@ablate/backend-web';
import { blockAblationPlugin } from '../examples/custom-perturbation/src/block-ablation.js';

// Issue 21 item 6: the shipped JSON Schema (what an editor checks) accepts exactly what the runtime accepts for
// ablate's own plug-ins, stays open for third-party types, and every config in the repo and its docs is valid
// against both.
const root = resolve(__dirname, '..');
const schemaFile = join(root, 'packages/cli/ablate.schema.json');
const shipped = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
// An editor: draft-07, no defaults filled in (ajv as @ablate/core uses it; not a dependency of the root).
type Validate = ((d: unknown) => boolean) & { errors?: unknown };
const { Ajv } = createRequire(join(root, 'packages/core/package.json'))('ajv') as { Ajv: new (o: object) => { compile(s: object): Validate } };
const editor = new Ajv({ strict: false, allErrors: true }).compile(shipped);

/** The runtime with the third-party plug-in the docs use (`block-ablation`, the example's) registered. */
function runtimeRegistry(): PluginRegistry {
  const r = registry.clone();
  if (!r.get('perturbation', 'block-ablation')) r.register(blockAblationPlugin);
  return r;
}
const withPlugin = runtimeRegistry();
const runtimeAccepts = (config: unknown, reg: PluginRegistry = withPlugin): true | string => {
  try {
    validateConfig(config, reg);
    return true;
  } catch (error) {
    return String((error as Error).message);
  }
};
const editorAccepts = (config: unknown): true | string => (editor(config) ? true : JSON.stringify(editor.errors));

function walk(dir: string, keep: (f: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'api' || e.name.startsWith('.') ? [] : walk(p, keep);
    return keep(p) ? [p] : [];
  });
}

/** Config files: reproduction/configs and the examples' JSON files (package manifests aside). */
const configFiles = [
  ...walk(join(root, 'reproduction/configs'), (f) => f.endsWith('.json')),
  ...walk(join(root, 'examples'), (f) => f.endsWith('.json') && !/(package|tsconfig|schema)\.json$/.test(f)),
];

/** ```json blocks of the Markdown docs that are configs (a whole config, or `"slot": {…}` fragments). */
function docConfigs(): { where: string; config: Record<string, unknown> }[] {
  const mds = [join(root, 'README.md'), ...walk(join(root, 'docs'), (f) => f.endsWith('.md')), ...walk(join(root, 'packages'), (f) => f.endsWith('README.md')), ...walk(join(root, 'examples'), (f) => f.endsWith('README.md'))];
  const out: { where: string; config: Record<string, unknown> }[] = [];
  const base = { perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'm.onnx' }, certifier: { type: 'cohen' } };
  for (const md of mds) {
    const lines = readFileSync(md, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^\s*```(json\w*)\s*$/.exec(lines[i]!);
      if (!open) continue;
      let j = i + 1;
      while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) j++;
      const body = lines.slice(i + 1, j).join('\n');
      const where = `${relative(root, md)}:${i + 1}`;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(body.trim().startsWith('{') ? body : `{${body}}`) as Record<string, unknown>;
      } catch {
        throw new Error(`${where}: a json block that does not parse`);
      }
      i = j;
      const slots = ['dataset', 'perturbation', 'encoder', 'classifier', 'certifier', 'attack', 'predict'];
      if ('perturbation' in parsed) out.push({ where, config: parsed });
      else if (Object.keys(parsed).every((k) => slots.includes(k))) out.push({ where: `${where} (fragment)`, config: { ...base, ...parsed } });
    }
  }
  return out;
}

describe('the shipped JSON Schema and the runtime', () => {
  it('packages/cli/ablate.schema.json is what `ablate schema` generates now, from any folder (it does not depend on what is installed where)', () => {
    // The CLI has every first-party plug-in package as a dev dependency, so in the repository `ablate schema` finds
    // them all from its own folder: the same output from the root and from a folder with no node_modules.
    for (const cwd of [root, tmpdir()]) {
      const r = spawnSync(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'schema'], { cwd, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr, cwd).toBe(''); // no "note: … is not installed; its types are not in the schema"
      expect(r.stdout, cwd).toBe(readFileSync(schemaFile, 'utf8'));
    }
  });

  it("lists every type of ablate's first-party packages (KNOWN_PLUGIN_PACKAGES), onnx-web included, with its options checked", () => {
    const listed = (slot: string) => ((shipped.properties as Record<string, any>)[slot].properties.type.anyOf as { const?: string }[]).flatMap((b) => (b.const ? [b.const] : []));
    for (const [kind, map] of Object.entries(KNOWN_PLUGIN_PACKAGES)) for (const type of Object.keys(map!)) expect(listed(kind), `${kind}/${type}`).toContain(type);
    expect(listed('classifier')).toEqual(['onnx', 'onnx-web', 'tfjs']);
    const base = { perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, certifier: { type: 'cohen' } };
    const web = { ...base, classifier: { type: 'onnx-web', model: 'm.onnx', executionProviders: ['webgpu', 'wasm'] } };
    expect(editorAccepts(web)).toBe(true);
    expect(runtimeAccepts(web)).toBe(true);
    // as at run time: a CUDA provider (backend-onnx's) and a missing model are refused for onnx-web
    for (const bad of [{ type: 'onnx-web', model: 'm.onnx', executionProviders: ['cuda'] }, { type: 'onnx-web' }]) {
      expect(editorAccepts({ ...base, classifier: bad }), JSON.stringify(bad)).not.toBe(true);
      expect(runtimeAccepts({ ...base, classifier: bad }), JSON.stringify(bad)).not.toBe(true);
    }
  });

  it('every config file in reproduction/ and examples/ is valid for an editor and for the runtime', () => {
    expect(configFiles.length).toBeGreaterThanOrEqual(24);
    for (const f of configFiles) {
      const config = JSON.parse(readFileSync(f, 'utf8'));
      expect(editorAccepts(config), relative(root, f)).toBe(true);
      expect(runtimeAccepts(config), relative(root, f)).toBe(true);
    }
  });

  it('every JSON config in the docs (whole configs and slot fragments) is valid for an editor and for the runtime', () => {
    const configs = docConfigs();
    expect(configs.map((c) => c.where)).toEqual(expect.arrayContaining([expect.stringMatching(/^docs\/architecture\.md/), expect.stringMatching(/^docs\/backends\.md/)]));
    for (const { where, config } of configs) {
      expect(editorAccepts(config), where).toBe(true);
      expect(runtimeAccepts(config), where).toBe(true);
    }
  });

  it('fields with defaults are optional: { "type": "cohen" } is valid for both', () => {
    const config = { perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'm.onnx' }, certifier: { type: 'cohen' } };
    expect(editorAccepts(config)).toBe(true);
    expect(runtimeAccepts(config)).toBe(true);
    expect(editorAccepts({ ...config, certifier: { type: 'sequential' } })).toBe(true);
  });

  it("accepts exactly what the runtime accepts for every built-in plug-in's variants", () => {
    const base: Record<string, unknown> = { perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'm.onnx' }, certifier: { type: 'cohen' } };
    const valueFor = (s: Record<string, unknown>): unknown => {
      if ('default' in s) return s.default;
      if (s.enum) return (s.enum as unknown[])[0];
      if (s.type === 'integer') return Math.max(2, Number(s.minimum ?? 2));
      if (s.type === 'number') return s.exclusiveMaximum === 1 ? 0.5 : 1;
      if (s.type === 'string') return 'x';
      if (s.type === 'boolean') return true;
      return undefined;
    };
    let compared = 0;
    let rejected = 0;
    for (const p of builtinPlugins) {
      const props = (p.schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      const required = (p.schema.required ?? []) as string[];
      const minimal: Record<string, unknown> = { type: p.type };
      for (const k of required) if (!('default' in props[k]!)) minimal[k] = valueFor(props[k]!);
      const variants: Record<string, unknown>[] = [{ type: p.type }, minimal, { ...minimal, notAnOption: 1 }];
      for (const [k, s] of Object.entries(props)) {
        const v = valueFor(s);
        if (v !== undefined) variants.push({ ...minimal, [k]: v });
        if (s.type === 'integer' || s.type === 'number') variants.push({ ...minimal, [k]: -1e9 }, { ...minimal, [k]: 'text' });
      }
      for (const slot of variants) {
        const config = { ...base, [p.kind]: slot };
        const runtime = runtimeAccepts(config) === true;
        expect(editorAccepts(config) === true, `${p.kind} ${JSON.stringify(slot)}: runtime ${runtime}`).toBe(runtime);
        compared++;
        if (!runtime) rejected++;
      }
    }
    // the comparison covers both outcomes
    expect(compared).toBeGreaterThan(80);
    expect(rejected).toBeGreaterThan(20);
    expect(compared - rejected).toBeGreaterThan(20);
  });

  it('stays open for third-party types, which the runtime accepts once their plug-in is registered', () => {
    const config = { perturbation: { type: 'uniform-l1', lambda: 0.5 }, encoder: { type: 'identity' }, classifier: { type: 'onnx', model: 'm.onnx' }, certifier: { type: 'hoeffding', delta: 0.01 } };
    expect(editorAccepts(config)).toBe(true);
    expect(runtimeAccepts(config, registry)).toMatch(/unknown perturbation type "uniform-l1"/);
    // a built-in type keeps its checks: a typo in an option is flagged, as at run time
    expect(editorAccepts({ ...config, certifier: { type: 'cohen', N: 10 } })).not.toBe(true);
    // names register() refuses are refused
    expect(editorAccepts({ ...config, perturbation: { type: '' } })).not.toBe(true);
    expect(editorAccepts({ ...config, perturbation: { type: 'a b' } })).not.toBe(true);
  });
});
