import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AttackOptions } from './commands/attack.js';
import type { DatasetRunOptions } from './commands/run-dataset.js';
import type { TrainOptions } from './commands/train.js';
import { addQueueOptions, addWorkerCommand, queueOrLocal } from './distributed/options.js';

// Only commander (and the distributed mode's flag definitions, which import neither BullMQ nor @ablate/core) is
// loaded up front: each command imports what it needs (@ablate/core, a backend, …) when it runs, so
// `ablate --help` starts fast and a backend that is not installed costs nothing until it is used.
const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;
/** @ablate/core's MAX_SAMPLES (not imported here: core loads lazily; test/reliability-model-cli.test.ts fails if they differ). */
export const CLI_MAX_SAMPLES = 1_000_000_000;
const MAX_SAMPLES = CLI_MAX_SAMPLES;
/** @ablate/core's MAX_ATTACK_RESTARTS (not imported: core loads lazily; packages/cli/test/files-and-errors.test.ts checks they agree). */
export const CLI_MAX_RESTARTS = 10_000;
/** @ablate/core's MAX_IMAGES_IN_FLIGHT (not imported: core loads lazily; packages/cli/test/files-and-errors.test.ts checks they agree). */
export const CLI_MAX_IMAGES_IN_FLIGHT = 64;
const MAX_IMAGES_IN_FLIGHT = CLI_MAX_IMAGES_IN_FLIGHT;
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/**
 * Integer flags, written as digits or in exponent notation (`10000`, `1e4`, `1.5e3`). Messages quote the text as
 * the user wrote it (never a rounded double such as 1e20) and give the real bounds: `min` … `max`, by default the
 * largest integer a double holds exactly (2^53 − 1). Config fields may bound a flag further; the config
 * validation names those.
 */
const int =
  (flag: string, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  (value: string) => {
    const text = value.trim();
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) throw new InvalidArgumentError(`${flag} must be an integer, got "${value}"`);
    const n = Number(text);
    if (Number.isFinite(n) && !Number.isInteger(n)) throw new InvalidArgumentError(`${flag} must be an integer, got ${text}`);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const limit = max === MAX_SAMPLES && !(n < min) ? ` (${MAX_SAMPLES} = MAX_SAMPLES, the most samples of any one stage)` : '';
      throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}, got ${text}${limit}`);
    }
    return n;
  };
/** Sample-count flags (--n0, --n, --max-samples, --predict-n): integers from `min` to core's MAX_SAMPLES. */
const samples = (flag: string, min = 1) => int(flag, min, MAX_SAMPLES);
/** Number flags: finite, and not a nonzero text that rounds to 0 (e.g. 1e-400). */
const num = (flag: string) => (value: string) => {
  const text = value.trim();
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new InvalidArgumentError(`${flag} must be a number, got "${value}"`);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a finite number, got ${text} (beyond ±1.8e308)`);
  if (n === 0 && /[1-9]/.test(text.replace(/e.*$/i, ''))) throw new InvalidArgumentError(`${flag}: ${text} is too small to represent (it rounds to 0)`);
  return n;
};

/** Where the command writes (tests pass their own streams). */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

/** Adds the dataset-run flags shared by certify and predict. */
function datasetRun(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config (see docs/architecture.md); flags below override it')
    .option('--start <S>', 'first dataset index', int('--start'))
    .option('--count <N>', 'number of images', int('--count', 1))
    .option('--out <file.jsonl>', 'results file: one JSON line per image, flushed as it finishes (default: stdout)')
    .option('--resume', 'continue an interrupted --out file of the same run (checked against its sidecar): finished images are skipped, a torn last line cut')
    .option('--model <path>', 'classifier.model')
    .option('--backend <type>', 'classifier.type (onnx, tfjs, or a plug-in; a backend package is loaded on first use)')
    .option('--perturbation <type>', 'perturbation.type (ablation, lee-noise, gaussian, partition, band, or a plug-in)')
    .option('--retain <k>', 'perturbation.retain (ablation k)', int('--retain', 1))
    .option('--levels <K>', 'perturbation.levels (lee-noise K)', int('--levels', 2))
    .option('--keep-prob <kappa>', 'perturbation.keepProb (lee-noise κ)', num('--keep-prob'))
    .option('--sigma <sigma>', 'perturbation.sigma (gaussian σ)', num('--sigma'))
    .option('--parts <T>', 'perturbation.parts (partition T)', int('--parts', 1))
    .addOption(new Option('--layout <layout>', 'perturbation.layout (partition)').choices(['stride', 'random']))
    .option('--width <b>', 'perturbation.width (band b)', int('--width', 1))
    .addOption(new Option('--orientation <o>', 'perturbation.orientation (band)').choices(['column', 'row', 'block']))
    .option('--encoder <type>', 'encoder.type (multichannel, mean, identity)')
    .option('--certifier <type>', 'certifier.type (cohen, lecuyer, sequential, vote-gap)')
    .option('--n0 <n0>', 'certifier.n0', samples('--n0'))
    .option('--n <n>', 'certifier.n', samples('--n'))
    .option('--max-samples <N>', 'certifier.maxSamples (sequential: budget per image, selection included)', samples('--max-samples', 2))
    .option('--target-radius <rho>', 'certifier.targetRadius (sequential: stop at the first check that decides whether this radius is certified)', num('--target-radius'))
    .option('--alpha <alpha>', 'certifier.alpha', num('--alpha'))
    .option('--seed <seed>', 'seed', int('--seed', 0))
    .option('--batch-size <B>', 'samples per classifier call', int('--batch-size', 1))
    .option('--images-in-flight <K>', `imagesInFlight: images computed at once, their classifier requests sharing batches (1–${MAX_IMAGES_IN_FLIGHT}; rows unchanged)`, int('--images-in-flight', 1, MAX_IMAGES_IN_FLIGHT))
    .option('--dataset <type>', 'dataset.type (mnist, fashion-mnist, cifar10, image-folder)')
    .option('--split <split>', 'dataset.split (train, test)')
    .option('--data-path <dir>', 'dataset.path')
    .option('--set <path=value>', 'set a config field that has no flag, e.g. --set certifier.slack=0.01 (JSON value; repeatable)', collectSet);
}

/** `--set path=value`, repeatable. */
const collectSet = (v: string, all: string[] = []) => [...all, v];

/** The flags of `ablate radius|plan` that build the bound of any registered perturbation. */
function registryBoundFlags(cmd: Command): Command {
  return cmd
    .option('--config <file>', "take the perturbation (and its \"plugins\") from a JSON config; flags override it")
    .option('--shape <C,H,W>', 'image shape the bound is for (needed by every perturbation but ablation/lee-noise with --d and gaussian)')
    .option('--parts <T>', 'perturbation.parts (partition T)', int('--parts', 1))
    .addOption(new Option('--layout <layout>', 'perturbation.layout (partition)').choices(['stride', 'random']))
    .option('--width <b>', 'perturbation.width (band b)', int('--width', 1))
    .addOption(new Option('--orientation <o>', 'perturbation.orientation (band)').choices(['column', 'row', 'block']))
    .option('--set <path=value>', 'set a config field that has no flag, e.g. --set perturbation.block=5 (JSON value; repeatable)', collectSet);
}

/** The commander program of `ablate`, its commands and flags (see docs/cli.md). */
export function buildProgram(io: Io): Command {
  const program = new Command('ablate')
    .description('Certifiably robust classification by randomized smoothing (randomized ablation, Levine & Feizi 2020).')
    .version(VERSION)
    .option('--plugin <module>', 'import a plug-in module before running (repeatable; resolved from the working directory)', (v: string, all: string[] = []) => [...all, v])
    .option('--plugin-replace <type>', "let plug-in modules replace this type of ablate's own (e.g. onnx; repeatable): refused otherwise", (v: string, all: string[] = []) => [...all, v])
    .showHelpAfterError('(run ablate <command> --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const plugins = () => (program.opts() as { plugin?: string[] }).plugin ?? [];
  /** radius/plan: the bound of a registered perturbation (--config, --set, --shape), or none (flags alone). */
  const resolveBound = async (o: Record<string, any>, cmd: Command) => {
    const { registryBound } = await import('./commands/registry-bound.js');
    const r = await registryBound({ ...(o as any), plugin: plugins() }, cmd.getOptionValueSource('levels') !== 'default');
    if (r) Object.assign(o, { resolved: r.bound, perturbation: r.perturbation.type, options: Object.fromEntries(Object.entries(r.perturbation).filter(([k]) => k !== 'type')) });
  };
  const pluginReplace = () => (program.opts() as { pluginReplace?: string[] }).pluginReplace ?? [];
  /** Loads the --plugin modules, the config's "plugins" and the packages of the types the run names. */
  const prepare = async (o: DatasetRunOptions, kinds: Parameters<typeof import('./plugins.js').preparePluginsFor>[1]) => {
    const { preparePluginsFor } = await import('./plugins.js');
    await preparePluginsFor({ ...o, plugin: plugins(), pluginReplace: pluginReplace() }, kinds);
  };
  const runLocal = async (kind: 'certify' | 'predict', o: DatasetRunOptions) => {
    const { runOverDataset } = await import('./commands/run-dataset.js');
    await runOverDataset(kind, o, io);
  };
  const datasetAction = (kind: 'certify' | 'predict') => async (o: DatasetRunOptions) => {
    await prepare(o, ['dataset', 'perturbation', 'encoder', 'classifier', 'certifier']);
    await queueOrLocal(kind, runLocal, io)(o);
  };
  addQueueOptions(datasetRun(program.command('certify').description('CERTIFY each image: prediction and certified L0 radius (Cohen et al. / Corollary 1 or 2)')))
    .option('--predict', 'also run PREDICT on each image, with its own samples (config "predict"); rows gain a "predict" field')
    .option('--predict-n <N>', 'PREDICT samples per image (config predict.n; default: certifier.n, sequential: certifier.maxSamples); implies --predict', samples('--predict-n'))
    .option('--predict-sequential', 'PREDICT by the sequential test (config predict.sequential): stops once the top class is decided, at most N samples; implies --predict')
    .action(datasetAction('certify'));
  addQueueOptions(datasetRun(program.command('predict').description('PREDICT each image with a binomial test; abstains when unsure')))
    .option('--predict-n <N>', 'samples per image (config predict.n; default: certifier.n, sequential: certifier.maxSamples)', samples('--predict-n'))
    .option('--sequential', 'sequential test (config predict.sequential): check at a geometric schedule (α split by a union bound), stop once the top class is decided; at most N samples')
    .action(datasetAction('predict'));
  addWorkerCommand(program, io, () => prepare({}, []));

  datasetRun(program.command('attack').description('Pointwise L0 attack (Schott et al. 2019) on each image against the smoothed classifier’s PREDICT: abstaining counts as fooled'))
    .option('--restarts <R>', 'attack.restarts: independent restarts per image (paper: 10; at most 10000)', int('--restarts', 1, CLI_MAX_RESTARTS))
    .option('--save-examples <dir>', 'write each image’s best adversarial example as DIR/<index>.png (8-bit)')
    .option('--fixed-samples', 'every search query is PREDICT with exactly n samples (n: --predict-n, else certifier.n; the paper: 10 000); default: the sequential PREDICT, at most n')
    .addOption(new Option('--target <model>', 'smoothed: the smoothed classifier’s PREDICT; base: the base model’s argmax (an undefended classifier)').choices(['smoothed', 'base']).default('smoothed'))
    .option('--predict-n <N>', 'samples of each search query (config predict.n; default: certifier.n, sequential: certifier.maxSamples)', samples('--predict-n'))
    .option('--confirm-n <N>', 'samples of the fresh PREDICT that confirms each reported example (target smoothed; default: the paper’s 10000)', samples('--confirm-n'))
    .action(async (o: AttackOptions) => {
      await prepare(o, ['dataset', 'perturbation', 'encoder', 'classifier', 'certifier', 'attack']);
      const { attackCommand } = await import('./commands/attack.js');
      await attackCommand(o, io);
    });

  program
    .command('train')
    .description('train a tfjs base classifier under the config’s perturbation (one draw per minibatch); practical with @tensorflow/tfjs-node-gpu')
    .option('--config <file>', 'JSON config: its dataset (default MNIST train), perturbation, encoder and seed are used')
    .requiredOption('--out <dir>', 'output folder (model.json, weights.bin, card.json)')
    .option('--epochs <E>', 'epochs', int('--epochs', 1), 1)
    .option('--batch-size <B>', 'minibatch size', int('--batch-size', 1), 128)
    .option('--lr <rate>', 'Adam learning rate', num('--lr'), 1e-3)
    .option('--count <N>', 'train on the first N images only', int('--count', 1))
    .addOption(new Option('--architecture <arch>', 'paper: the paper’s MNIST CNN; tiny: for tests').choices(['paper', 'tiny']).default('paper'))
    .option('--backends <list>', 'tfjs backends in order, comma-separated (default tensorflow,cpu: tfjs-node, then tfjs-node-gpu, then pure JS)')
    .option('--perturbation <type>', 'perturbation.type')
    .option('--retain <k>', 'perturbation.retain', int('--retain', 1))
    .option('--levels <K>', 'perturbation.levels', int('--levels', 2))
    .option('--keep-prob <kappa>', 'perturbation.keepProb', num('--keep-prob'))
    .option('--encoder <type>', 'encoder.type')
    .option('--seed <seed>', 'seed', int('--seed', 0))
    .option('--dataset <type>', 'dataset.type')
    .option('--split <split>', 'dataset.split')
    .option('--data-path <dir>', 'dataset.path')
    .action(async (o: TrainOptions) => {
      const { preparePluginsFor } = await import('./plugins.js');
      await preparePluginsFor({ ...o, split: o.split ?? (o.config ? undefined : 'train'), plugin: plugins(), pluginReplace: pluginReplace() }, ['dataset', 'perturbation', 'encoder']);
      const { trainCommand } = await import('./commands/train.js');
      await trainCommand(o, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of config files (ablate.schema.json), built from the registered plug-ins: the installed ablate packages and --plugin modules')
    .option('--out <file>', 'write it to a file instead of stdout')
    .action(async (o: { out?: string }) => {
      const { schemaCommand } = await import('./commands/schema.js');
      await schemaCommand({ ...o, plugin: plugins(), pluginReplace: pluginReplace() }, io);
    });

  program
    .command('summarize')
    .description('accuracy, abstain rate, median certified robustness and certified accuracy per ρ of result files')
    .argument('<files...>', 'JSONL files written by certify')
    .option('--json', 'print JSON (one object for one file, an array for several)')
    .option('--plot <file.svg>', 'write the certified-accuracy-vs-ρ curves as SVG')
    .action(async (files: string[], o: { json?: boolean; plot?: string }) => {
      const [{ summarize, formatSummary }, { certifiedAccuracySvg, checkPlotTarget, writePlot }] = await Promise.all([import('./summary.js'), import('./plot.js')]);
      if (o.plot) checkPlotTarget(o.plot); // refused before anything is printed
      const summaries = files.map((f) => summarize(f));
      if (o.json) io.stdout.write(`${JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2)}\n`);
      else io.stdout.write(`${summaries.map(formatSummary).join('\n\n')}\n`);
      if (o.plot) {
        writePlot(o.plot, certifiedAccuracySvg(summaries));
        io.stderr.write(`wrote ${o.plot}\n`);
      }
    });

  program
    .command('report')
    .description('one self-contained HTML page of result files: config, paper metrics, certified-accuracy curves, a sortable, filterable image gallery (adversarial examples beside originals for attack runs)')
    .argument('<files...>', 'JSONL files written by certify, predict or attack')
    .requiredOption('--html <out.html>', 'the page to write (a new file, or a report written by ablate report)')
    .option('--data-path <dir>', 'dataset.path for the thumbnails (default: the run’s own dataset config)')
    .option('--examples <dir>', 'attack run: the folder of --save-examples PNGs (default: <file>-examples next to it)')
    .option('--no-thumbnails', 'leave the dataset images out')
    .action(async (files: string[], o: { html: string; dataPath?: string; examples?: string; thumbnails?: boolean }) => {
      const { reportCommand } = await import('./report/index.js');
      await reportCommand(files, o, io);
    });

  registryBoundFlags(program.command('radius'))
    .description('certificate calculator: the largest certified radius for a given pA lower bound, and the information per sample (eq. 20–21)')
    .option('--perturbation <type>', 'ablation, lee-noise, gaussian (from flags), or any registered perturbation: partition, band, a --plugin one (with --shape)')
    .option('--d <d>', 'pixel locations (ablation) or features (lee-noise)', int('--d', 1))
    .option('--retain <k>', 'ablation k', int('--retain', 1))
    .option('--levels <K>', 'alphabet size |S| (lee-noise K; information of both schemes)', int('--levels', 2), 256)
    .option('--keep-prob <kappa>', 'lee-noise κ', num('--keep-prob'))
    .option('--sigma <sigma>', 'gaussian σ', num('--sigma'))
    .requiredOption('--p-lower <p>', 'lower bound on the top-class probability', num('--p-lower'))
    .option('--p-upper <p>', 'upper bound on the runner-up probability (Corollary 2)', num('--p-upper'))
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      const { radiusCommand } = await import('./commands/radius.js');
      await resolveBound(o, cmd);
      const { text, json } = radiusCommand(o);
      io.stdout.write(o.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
    });

  registryBoundFlags(program.command('plan'))
    .description('planner: samples needed for radius ρ at α given pA (fixed n, sequential schedule, simulated stopping time); best k for a pA curve')
    .option('--perturbation <type>', 'ablation, lee-noise, gaussian (from flags), or any registered perturbation: partition, band, a --plugin one (with --shape)')
    .option('--d <d>', 'pixel locations (ablation) or features (lee-noise)', int('--d', 1))
    .option('--retain <k>', 'ablation k', int('--retain', 1))
    .option('--levels <K>', 'lee-noise K', int('--levels', 2), 256)
    .option('--keep-prob <kappa>', 'lee-noise κ', num('--keep-prob'))
    .option('--sigma <sigma>', 'gaussian σ', num('--sigma'))
    .option('--alpha <alpha>', 'failure probability α', num('--alpha'), 0.05)
    .option('--radius <rho>', 'target radius ρ', num('--radius'))
    .option('--p-a <p>', 'expected top-class probability pA', num('--p-a'))
    .option('--max-samples <N>', 'sequential budget per image, selection included', samples('--max-samples', 2), 11000)
    .option('--n0 <n0>', 'sequential: most selection samples', samples('--n0'), 1000)
    .option('--simulations <runs>', 'Monte Carlo runs of the sequential certifier (0: skip)', int('--simulations', 0), 200)
    .option('--curve <pairs>', 'pA curve: "param:pA,…" (k for ablation, κ for lee-noise, σ for gaussian)')
    .option('--curve-file <file>', 'pA curve from a file: one "param pA" per line, or a JSON array of [param, pA]')
    .option('--n <n>', 'samples for the best-parameter question (Cohen estimation n)', samples('--n'), 10000)
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      const { planCommand } = await import('./commands/plan.js');
      await resolveBound(o, cmd);
      const { text, json } = await planCommand(o);
      io.stdout.write(o.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
    });
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 2 usage/config, 1 runtime). Never prints a stack for user errors. */
export async function main(argv: readonly string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      return EXIT.usage; // commander already printed the message
    }
    const { isUserError } = await import('./errors.js');
    if (isUserError(error)) {
      io.stderr.write(`ablate: ${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`ablate: ${(error as Error)?.message ?? String(error)}\n`);
    if (process.env.ABLATE_DEBUG) io.stderr.write(`${(error as Error)?.stack}\n`);
    return EXIT.runtime;
  }
}
