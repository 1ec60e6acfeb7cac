import { describe, expect, it } from 'vitest';
import { ArgumentError, builtinPlugins, createContainer, definePlugin, FunctionClassifier, KNOWN_PLUGIN_PACKAGES, PluginConflictError, registry, type PluginKind } from '../src/index.js';

/**
 * Issue 20 §2: a third-party plug-in must not silently take the type of one of ablate's own plug-ins — a built-in
 * (cohen, ablation, …) or a type of a first-party package, also while that package is not loaded yet (onnx, tfjs,
 * mnist, cifar10, image-folder, …). Refused with a PluginConflictError naming the type, its slot and its owner,
 * unless `{ replace: true }`.
 */
const fake = (kind: PluginKind, type: string) =>
  definePlugin<PluginKind, Record<string, never>>({ kind, type, description: 'impostor', schema: {}, create: () => new FunctionClassifier({ numClasses: 10, predict: () => 3 }) as never });

const conflict = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as PluginConflictError;
  }
  throw new Error('no error thrown');
};

describe('plug-ins cannot shadow ablate’s own types', () => {
  it('every built-in type and every type of ablate’s packages (loaded or not) is refused, naming type, slot and owner', () => {
    const reserved: [PluginKind, string, string][] = [
      ...builtinPlugins.map((p) => [p.kind, p.type, '@ablate/core'] as [PluginKind, string, string]),
      ...Object.entries(KNOWN_PLUGIN_PACKAGES).flatMap(([kind, map]) => Object.entries(map!).map(([type, pkg]) => [kind, type, pkg] as [PluginKind, string, string])),
    ];
    expect(reserved.map(([k, t]) => `${k}/${t}`)).toEqual(expect.arrayContaining(['certifier/cohen', 'classifier/onnx', 'classifier/tfjs', 'dataset/mnist', 'dataset/cifar10', 'dataset/image-folder', 'perturbation/ablation']));
    for (const [kind, type, owner] of reserved) {
      const reg = registry.clone();
      const error = conflict(() => reg.register(fake(kind, type)));
      expect(error, `${kind}/${type}`).toBeInstanceOf(PluginConflictError);
      expect(error).toMatchObject({ code: 'ABLATE_PLUGIN_CONFLICT', field: 'plugin.type', kind, type, provider: owner });
      expect(error.message).toBe(
        `${kind} type "${type}" belongs to ${owner}: a plug-in may not replace it silently (give the plug-in another type name, or replace it on purpose: register(plugin, { replace: true }) in code, --plugin-replace TYPE with the ablate CLI)`,
      );
      // nothing was registered
      if (owner !== '@ablate/core') expect(reg.get(kind, type)).toBeUndefined();
      else expect(reg.get(kind, type)).toBe(builtinPlugins.find((p) => p.kind === kind && p.type === type));
    }
  });

  it('{ replace: true } replaces on purpose, and the registry says whose type was replaced', () => {
    const reg = registry.clone();
    const onnx = fake('classifier', 'onnx');
    reg.register(onnx, { replace: true });
    expect(reg.get('classifier', 'onnx')).toBe(onnx);
    expect(reg.replacedFirstParty('classifier', 'onnx')).toBe('@ablate/backend-onnx');
    const cohen = fake('certifier', 'cohen');
    reg.register(cohen, { replace: true });
    expect(reg.replacedFirstParty('certifier', 'cohen')).toBe('@ablate/core');
    expect(reg.replacedFirstParty('certifier', 'lecuyer')).toBeUndefined();
    // the global registry is untouched
    expect(registry.get('certifier', 'cohen')).not.toBe(cohen);
    expect(registry.get('classifier', 'onnx')).toBeUndefined();
  });

  it('the owner registers its own type (provider), once; its plug-in object may be passed again; third-party types as before', () => {
    const reg = registry.clone();
    const real = fake('classifier', 'onnx');
    reg.register(real, { provider: '@ablate/backend-onnx' });
    expect(reg.replacedFirstParty('classifier', 'onnx')).toBeUndefined();
    reg.register(real); // the same object: not an impostor
    expect(() => reg.register(fake('classifier', 'onnx'), { provider: '@ablate/other' })).toThrow(PluginConflictError);
    const mine = fake('classifier', 'mine');
    reg.register(mine);
    expect(() => reg.register(fake('classifier', 'mine'))).toThrow(ArgumentError);
    expect(() => reg.register(fake('classifier', 'mine'))).toThrow(/classifier plug-in named "mine" is already registered/);
  });

  it('createContainer’s per-call plug-ins may override third-party types, not ablate’s own', async () => {
    const config = { perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx' }, certifier: { type: 'cohen', alpha: 0.05, n0: 10, n: 100 } } as const;
    await expect(createContainer(config as never, { plugins: [fake('classifier', 'onnx')] })).rejects.toMatchObject({ code: 'ABLATE_PLUGIN_CONFLICT', type: 'onnx', kind: 'classifier' });
    await expect(createContainer(config as never, { plugins: [fake('certifier', 'cohen')] })).rejects.toThrow(/certifier type "cohen" belongs to @ablate\/core/);
    // replacing on purpose: a registry with the replacement
    const reg = registry.clone().register(fake('classifier', 'onnx'), { replace: true });
    const rt = await createContainer(config as never, { registry: reg });
    expect(rt.classifier.numClasses).toBe(10);
    await rt.dispose();
  });
});

describe('hostile pass (issue 20 follow-up): a provider claim is not ownership, and a plug-in must have a schema', () => {
  it('an impostor passing { provider: "@ablate/core", replace: true } for cohen is still reported as a replacement', () => {
    const reg = registry.clone();
    const impostor = fake('certifier', 'cohen');
    reg.register(impostor, { provider: '@ablate/core', replace: true });
    expect(reg.get('certifier', 'cohen')).toBe(impostor);
    // (before the fix the claim overwrote the owner's record: replacedFirstParty said nothing, the CLI let it pass)
    expect(reg.replacedFirstParty('certifier', 'cohen')).toBe('@ablate/core');
    // without replace it is refused outright, provider claim or not
    expect(() => registry.clone().register(fake('certifier', 'lecuyer'), { provider: '@ablate/core' })).toThrow(PluginConflictError);
  });

  it('after the owner registered onnx, a second object claiming its provider is a conflict', () => {
    const reg = registry.clone();
    reg.register(fake('classifier', 'onnx'), { provider: '@ablate/backend-onnx' });
    expect(() => reg.register(fake('classifier', 'onnx'), { provider: '@ablate/backend-onnx' })).toThrow(PluginConflictError);
  });

  it('a plug-in without a schema object is an ArgumentError naming plugin.schema (not a TypeError at validation)', () => {
    const reg = registry.clone();
    const noSchema = { kind: 'classifier', type: 'mine', description: 'x', create: () => ({}) } as never;
    expect(() => reg.register(noSchema)).toThrow(ArgumentError);
    expect(() => reg.register(noSchema)).toThrow(/plugin\.schema: .*must be a JSON Schema object/);
    expect(() => reg.register({ ...fake('classifier', 'mine2'), schema: 'x' } as never)).toThrow(/plugin\.schema/);
    expect(reg.get('classifier', 'mine')).toBeUndefined();
  });
});
