import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { DatasetRunOptions } from './commands/run-dataset.js';
import type { TrainOptions } from './commands/train.js';

// Only commander is loaded up front: each command imports what it needs (@ablate/core, a backend, …) when it
// runs, so `ablate --help` starts fast and a backend that is not installed costs nothing until it is used.
const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const int = (flag: string, min = 0) => (value: string) => {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} must be an integer, got "${value}"`);
  const n = Number(value);
  if (n < min) throw new InvalidArgumentError(`${flag} must be ≥ ${min}, got ${n}`);
  return n;
};
const num = (flag: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a number, got "${value}"`);
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
    .option('--resume', 'continue an interrupted --out file: finished images are skipped, a torn last line repaired')
    .option('--model <path>', 'classifier.model')
    .option('--backend <type>', 'classifier.type (onnx, tfjs, or a plug-in; a backend package is loaded on first use)')
    .option('--perturbation <type>', 'perturbation.type (ablation, lee-noise, gaussian, or a plug-in)')
    .option('--retain <k>', 'perturbation.retain (ablation k)', int('--retain', 1))
    .option('--levels <K>', 'perturbation.levels (lee-noise K)', int('--levels', 2))
    .option('--keep-prob <kappa>', 'perturbation.keepProb (lee-noise κ)', num('--keep-prob'))
    .option('--sigma <sigma>', 'perturbation.sigma (gaussian σ)', num('--sigma'))
    .option('--encoder <type>', 'encoder.type (multichannel, mean, identity)')
    .option('--certifier <type>', 'certifier.type (cohen, lecuyer)')
    .option('--n0 <n0>', 'certifier.n0', int('--n0', 1))
    .option('--n <n>', 'certifier.n', int('--n', 1))
    .option('--alpha <alpha>', 'certifier.alpha', num('--alpha'))
    .option('--seed <seed>', 'seed', int('--seed', 0))
    .option('--batch-size <B>', 'samples per classifier call', int('--batch-size', 1))
    .option('--dataset <type>', 'dataset.type (mnist, fashion-mnist, cifar10, image-folder)')
    .option('--split <split>', 'dataset.split (train, test)')
    .option('--data-path <dir>', 'dataset.path');
}

/** The commander program of `ablate`, its commands and flags (see docs/cli.md). */
export function buildProgram(io: Io): Command {
  const program = new Command('ablate')
    .description('Certifiably robust classification by randomized smoothing (randomized ablation, Levine & Feizi 2020).')
    .version(VERSION)
    .option('--plugin <module>', 'import a plug-in module before running (repeatable; resolved from the working directory)', (v: string, all: string[] = []) => [...all, v])
    .showHelpAfterError('(run ablate <command> --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const plugins = () => (program.opts() as { plugin?: string[] }).plugin ?? [];
  const runDataset = async (kind: 'certify' | 'predict', o: DatasetRunOptions) => {
    const { preparePluginsFor } = await import('./plugins.js');
    await preparePluginsFor({ ...o, plugin: plugins() }, ['dataset', 'perturbation', 'encoder', 'classifier', 'certifier']);
    const { runOverDataset } = await import('./commands/run-dataset.js');
    await runOverDataset(kind, o, io);
  };
  datasetRun(program.command('certify').description('CERTIFY each image: prediction and certified L0 radius (Cohen et al. / Corollary 1 or 2)')).action(
    async (o: DatasetRunOptions) => runDataset('certify', o),
  );
  datasetRun(program.command('predict').description('PREDICT each image with a binomial test; abstains when unsure')).action(async (o: DatasetRunOptions) =>
    runDataset('predict', o),
  );

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
      await preparePluginsFor({ ...o, split: o.split ?? (o.config ? undefined : 'train'), plugin: plugins() }, ['dataset', 'perturbation', 'encoder']);
      const { trainCommand } = await import('./commands/train.js');
      await trainCommand(o, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of config files (ablate.schema.json), built from the registered plug-ins: the installed ablate packages and --plugin modules')
    .option('--out <file>', 'write it to a file instead of stdout')
    .action(async (o: { out?: string }) => {
      const { schemaCommand } = await import('./commands/schema.js');
      await schemaCommand({ ...o, plugin: plugins() }, io);
    });

  program
    .command('summarize')
    .description('accuracy, abstain rate, median certified robustness and certified accuracy per ρ of result files')
    .argument('<files...>', 'JSONL files written by certify')
    .option('--json', 'print JSON (one object for one file, an array for several)')
    .option('--plot <file.svg>', 'write the certified-accuracy-vs-ρ curves as SVG')
    .action(async (files: string[], o: { json?: boolean; plot?: string }) => {
      const [{ summarize, formatSummary }, { certifiedAccuracySvg }] = await Promise.all([import('./summary.js'), import('./plot.js')]);
      const summaries = files.map((f) => summarize(f));
      if (o.json) io.stdout.write(`${JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2)}\n`);
      else io.stdout.write(`${summaries.map(formatSummary).join('\n\n')}\n`);
      if (o.plot) {
        writeFileSync(o.plot, certifiedAccuracySvg(summaries));
        io.stderr.write(`wrote ${o.plot}\n`);
      }
    });

  program
    .command('radius')
    .description('certificate calculator: the largest certified radius for a given pA lower bound, and the information per sample (eq. 20–21)')
    .addOption(new Option('--perturbation <type>').choices(['ablation', 'lee-noise', 'gaussian']).makeOptionMandatory())
    .option('--d <d>', 'pixel locations (ablation) or features (lee-noise)', int('--d', 1))
    .option('--retain <k>', 'ablation k', int('--retain', 1))
    .option('--levels <K>', 'alphabet size |S| (lee-noise K; information of both schemes)', int('--levels', 2), 256)
    .option('--keep-prob <kappa>', 'lee-noise κ', num('--keep-prob'))
    .option('--sigma <sigma>', 'gaussian σ', num('--sigma'))
    .requiredOption('--p-lower <p>', 'lower bound on the top-class probability', num('--p-lower'))
    .option('--p-upper <p>', 'upper bound on the runner-up probability (Corollary 2)', num('--p-upper'))
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { radiusCommand } = await import('./commands/radius.js');
      const { text, json } = radiusCommand(o);
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
