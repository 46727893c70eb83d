// `kd train`: trains a Llama-style student on a corpus (objective `ce`: next-token
// cross-entropy) or on a teacher's labels (objective `kd`: distillation) and leaves a run folder
// with an atomic checkpoint; `--resume` continues it exactly. Ctrl-C stops after the current
// step and writes a checkpoint first.
import { Command, Option } from 'commander';
import { z } from 'zod';
import { train, type TrainOptionsInput } from '@kd/trainer';
import { applyConfigFile } from '../config.js';
import { integerOption, numberOption } from '../options.js';
import { Progress } from '../progress.js';
import { validateOptions } from '../validate.js';

const trainSchema = z.object({
  data: z.string().optional(),
  tokenizer: z.string().optional(),
  studentTokenizer: z.string().optional(),
  out: z.string({ error: 'is required: the run folder for checkpoints' }),
  objective: z.enum(['ce', 'kd']),
  labels: z.string().optional(),
  teacher: z.string().optional(),
  teacherTokenizer: z.string().optional(),
  map: z.string().optional(),
  mapCacheDir: z.string().optional(),
  mapping: z.enum(['first-piece', 'byte-prefix']),
  alpha: z.coerce.number().min(0).max(1),
  temperature: z.coerce.number().positive(),
  divergence: z.enum(['forward-kl', 'reverse-kl', 'jsd']),
  beta: z.coerce.number().gt(0).lt(1),
  tail: z.enum(['renormalize', 'bucket']),
  steps: z.coerce.number().int().min(1),
  batchSize: z.coerce.number().int().min(1),
  sequenceLength: z.coerce.number().int().min(2),
  accumulate: z.coerce.number().int().min(1),
  lr: z.coerce.number().positive(),
  minLrRatio: z.coerce.number().min(0).max(1),
  warmup: z.coerce.number().int().min(0),
  weightDecay: z.coerce.number().min(0),
  clip: z.coerce.number().min(0),
  seed: z.coerce.number().int().min(0),
  hidden: z.coerce.number().int().min(1),
  layers: z.coerce.number().int().min(1),
  heads: z.coerce.number().int().min(1),
  kvHeads: z.coerce.number().int().min(1).optional(),
  intermediate: z.coerce.number().int().min(1).optional(),
  maxPositions: z.coerce.number().int().min(2),
  checkpointEvery: z.coerce.number().int().min(1),
  resume: z.boolean().optional(),
  limit: z.coerce.number().int().min(1).optional(),
  tasks: z.array(z.enum(['text', 'code', 'classify', 'translate'])).optional(),
  backend: z.enum(['auto', 'wasm']),
  threads: z.coerce.number().int().min(1).optional(),
  json: z.boolean().optional(),
}).superRefine((options, context) => {
  const need = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
  if (options.tokenizer === undefined && options.studentTokenizer === undefined) need('tokenizer', 'is required: the student tokenizer.json');
  if (options.objective === 'ce' && options.data === undefined) need('data', 'is required: a .jsonl or .txt corpus file or a folder of them');
  if (options.objective === 'kd') {
    if (options.teacherTokenizer === undefined) need('teacherTokenizer', "is required with --objective kd: the teacher's tokenizer.json");
    if ((options.labels === undefined) === (options.teacher === undefined)) need('labels', 'with --objective kd give --labels DIR (offline) or --teacher DIR (online), one of them');
    if (options.teacher !== undefined && options.data === undefined) need('data', 'is required with --teacher: the corpus the teacher labels in the loop');
  }
});
export type TrainCommandOptions = z.infer<typeof trainSchema>;

function trainOptions(options: TrainCommandOptions): TrainOptionsInput {
  return {
    corpus: options.data,
    tasks: options.tasks,
    limit: options.limit,
    tokenizer: options.tokenizer,
    studentTokenizer: options.studentTokenizer,
    out: options.out,
    labels: options.labels,
    teacher: options.teacher,
    teacherTokenizer: options.teacherTokenizer,
    map: options.map,
    mapCacheDir: options.mapCacheDir,
    mapping: options.mapping,
    alpha: options.alpha,
    temperature: options.temperature,
    divergence: options.divergence,
    beta: options.beta,
    tail: options.tail,
    model: {
      hiddenSize: options.hidden,
      layers: options.layers,
      heads: options.heads,
      keyValueHeads: options.kvHeads,
      intermediateSize: options.intermediate,
      maxPositions: options.maxPositions,
    },
    objective: options.objective,
    steps: options.steps,
    batchSize: options.batchSize,
    sequenceLength: options.sequenceLength,
    accumulate: options.accumulate,
    learningRate: options.lr,
    minimumLearningRateRatio: options.minLrRatio,
    warmupSteps: options.warmup,
    weightDecay: options.weightDecay,
    clip: options.clip,
    seed: options.seed,
    checkpointEvery: options.checkpointEvery,
    resume: options.resume ?? false,
    backend: options.backend,
    threads: options.threads,
  };
}

export async function runTrain(options: TrainCommandOptions, log: (line: string) => void = console.log): Promise<void> {
  const controller = new AbortController();
  const stop = () => {
    process.stderr.write('\nstopping after this step; writing a checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', stop);
  let progress: Progress | undefined;
  let startStep = 0;
  try {
    const result = await train(trainOptions(options), {
      signal: controller.signal,
      onStart: (info) => {
        log(info.backend.description);
        log(info.engine.description);
        log(
          `model: ${info.parameters.toLocaleString('en-US')} parameters (d=${info.config.hiddenSize}, ${info.config.layers} layers, ${info.config.heads} heads, vocab ${info.config.vocabSize}); ` +
            `corpus: ${info.corpusTokens.toLocaleString('en-US')} tokens; ${info.startStep > 0 ? `resuming at step ${info.startStep}` : 'starting at step 0'}`,
        );
        startStep = info.startStep;
        progress = new Progress({ label: 'train', total: options.steps - startStep, unit: 'steps' });
      },
      onProgress: (update) => {
        progress?.update(update.step - startStep, `step ${update.step} loss ${update.loss.toFixed(4)} ${Math.round(update.tokensPerSecond)} tok/s`);
      },
    });
    progress?.finish();
    const last = result.losses.at(-1);
    if (options.json) {
      log(JSON.stringify({ out: options.out, step: result.step, stopped: result.stopped, loss: last, checkpoint: result.checkpoint, backend: result.backend.name }));
    } else {
      log(`${result.stopped ? 'stopped' : 'finished'} at step ${result.step}/${options.steps}, loss ${last?.toFixed(4) ?? 'n/a'}; checkpoint: ${result.checkpoint}`);
    }
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

export function trainCommand(): Command {
  return new Command('train')
    .description('Train a Llama-style student on a corpus and write checkpoints (resumable)')
    .option('--config <file>', 'JSON file of flag values (flags given here win)')
    .option('--data <path>', 'corpus: .jsonl (text/code/classify/translate records), .txt, or a folder of them')
    .option('--tokenizer <file>', "the student's tokenizer.json (its vocabulary sizes the model)")
    .option('--student-tokenizer <file>', 'the same as --tokenizer (the name kd uses beside --teacher-tokenizer)')
    .option('--out <dir>', 'run folder: checkpoint/ is written here')
    .addOption(new Option('--objective <name>', 'training objective: ce = next-token cross-entropy, kd = distillation from teacher rows').choices(['ce', 'kd']).default('ce'))
    .option('--labels <dir>', 'kd, offline: a `kd label` dataset folder')
    .option('--teacher <dir>', 'kd, online: the teacher runs in the loop over --data (no files)')
    .option('--teacher-tokenizer <file>', "kd: the teacher's tokenizer.json (the labels must have been made with it)")
    .option('--map <file>', 'kd: a vocabulary map file for this teacher/student pair (default: built and cached)')
    .option('--map-cache-dir <dir>', 'kd: where the teacher→student map is cached')
    .addOption(new Option('--mapping <rule>', 'kd: a teacher token without a byte-identical student token goes to the first piece of its text, or to the longest student token its bytes begin with').choices(['first-piece', 'byte-prefix']).default('first-piece'))
    .option('--alpha <x>', 'kd: weight of the teacher term (1 − alpha weights the hard label)', numberOption('--alpha'), 0.5)
    .option('--temperature <x>', "kd: the student's softmax temperature in the teacher term (loss scaled by its square)", numberOption('--temperature'), 1)
    .addOption(new Option('--divergence <name>', 'kd: how the student is compared with the teacher').choices(['forward-kl', 'reverse-kl', 'jsd']).default('forward-kl'))
    .option('--beta <x>', 'kd: JSD mixture weight (M = β·teacher + (1 − β)·student)', numberOption('--beta'), 0.5)
    .addOption(new Option('--tail <how>', "kd: the teacher's mass outside its kept ids: renormalized away, or one residual category").choices(['renormalize', 'bucket']).default('renormalize'))
    .option('--steps <n>', 'optimizer steps in total', integerOption('--steps', { min: 1 }), 1000)
    .option('--batch-size <n>', 'windows per micro-batch', integerOption('--batch-size', { min: 1 }), 8)
    .option('--sequence-length <n>', 'tokens per window', integerOption('--sequence-length', { min: 2 }), 128)
    .option('--accumulate <n>', 'micro-batches per optimizer step (gradient accumulation)', integerOption('--accumulate', { min: 1 }), 1)
    .option('--lr <x>', 'peak learning rate (AdamW)', numberOption('--lr'), 3e-3)
    .option('--min-lr-ratio <x>', 'learning rate at the end of the cosine, as a fraction of the peak', numberOption('--min-lr-ratio'), 0.1)
    .option('--warmup <n>', 'linear warmup steps', integerOption('--warmup'), 100)
    .option('--weight-decay <x>', 'AdamW decoupled weight decay on matrices', numberOption('--weight-decay'), 0.1)
    .option('--clip <x>', 'clip the global gradient norm to this (0: off)', numberOption('--clip'), 1)
    .option('--seed <n>', 'seed of the initialization and the data order', integerOption('--seed'), 0)
    .option('--hidden <n>', 'model width', integerOption('--hidden', { min: 1 }), 256)
    .option('--layers <n>', 'decoder layers', integerOption('--layers', { min: 1 }), 2)
    .option('--heads <n>', 'attention heads', integerOption('--heads', { min: 1 }), 4)
    .option('--kv-heads <n>', 'key/value heads (fewer than --heads: grouped-query attention)', integerOption('--kv-heads', { min: 1 }))
    .option('--intermediate <n>', 'MLP width (default: about 8/3 × hidden)', integerOption('--intermediate', { min: 1 }))
    .option('--max-positions <n>', 'longest context the exported model accepts', integerOption('--max-positions', { min: 2 }), 1024)
    .option('--checkpoint-every <n>', 'write a checkpoint every n steps (and at the end)', integerOption('--checkpoint-every', { min: 1 }), 100)
    .option('--resume', 'continue the run in --out exactly where its checkpoint left off')
    .option('--limit <n>', 'train on the first n documents only', integerOption('--limit', { min: 1 }))
    .option('--tasks <tasks...>', 'train on these tasks only (text code classify translate)')
    .addOption(new Option('--backend <name>', 'auto: @tensorflow/tfjs-node when installed, else wasm').choices(['auto', 'wasm']).default('auto'))
    .option('--threads <n>', "onnxruntime threads of the training step (default: the checkpoint's on --resume, else all cores)", integerOption('--threads', { min: 1 }))
    .option('--json', 'print the summary as one JSON object')
    .addHelpText(
      'after',
      `
Example:
  kd train --data ../shared/corpus/train.jsonl --tokenizer examples/student-tokenizer/tokenizer.json \\
           --hidden 256 --layers 2 --heads 4 --steps 2000 --batch-size 8 --sequence-length 128 --out out/student
  kd train --config examples/train.json --resume   # continue the same run after a stop
  kd train --objective kd --labels out/labels --teacher-tokenizer ../shared/fixtures/teacher-llama-13m/tokenizer.json \
           --student-tokenizer examples/student-tokenizer/tokenizer.json --alpha 0.5 --steps 500 --out out/kd-student`,
    )
    .hook('preAction', (command) => applyConfigFile(command))
    .action(async (_options, command: Command) => {
      await runTrain(validateOptions(trainSchema, command.opts()));
    });
}
