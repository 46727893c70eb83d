// `kd train`: trains a Llama-style student on a corpus (objective `ce`: next-token
// cross-entropy) or on a teacher's labels (objective `kd`: distillation) and leaves a run folder
// with an atomic checkpoint; `--resume` continues it exactly. Ctrl-C stops after the current
// step, writes a checkpoint and exits with 130. The flags are @kd/trainer's train options; with
// `--teacher` (online distillation, @kd/pipeline's distillOnline) also the teacher's side
// (compression, quantization, part size), under the config key `online`.
import type { Command } from 'commander';
import { z } from 'zod';
import { distillOnline, onlineDistillOptionsSchema } from '@kd/pipeline';
import { train, trainOptionsSchema, type TrainHooks } from '@kd/trainer';
import { CliError } from '../errors.js';
import { defineCommand } from '../define-command.js';
import { Progress } from '../progress.js';

const ownSchema = z
  .object({
    json: z.boolean().optional().describe('print the summary as one JSON object on stdout (and nothing else there)'),
  })
  .strict();

/** The train options plus, for online distillation, what the teacher keeps per position. */
export const trainCommandSchema = trainOptionsSchema.safeExtend({
  online: onlineDistillOptionsSchema.optional().describe('online distillation (with teacher): what the teacher keeps per position'),
});

export type TrainCommandOptions = z.output<typeof trainCommandSchema>;

/** Exit status of a run stopped by Ctrl-C: the shell's convention for SIGINT. */
export const interruptedExitCode = 130;

export async function runTrain(options: TrainCommandOptions, own: { json?: boolean }, log: (line: string) => void = console.log): Promise<void> {
  const note = own.json ? (line: string) => process.stderr.write(`${line}\n`) : log;
  const controller = new AbortController();
  const stop = () => {
    process.stderr.write('\nstopping after this step; writing a checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(interruptedExitCode));
  };
  process.once('SIGINT', stop);
  let progress: Progress | undefined;
  let startStep = 0;
  try {
    const { online, ...trainOptions } = options;
    if (online !== undefined && trainOptions.teacher === undefined) {
      throw new CliError('E_USAGE', '`online` options (compression, quantization, rowsPerPart) apply to online distillation only: give `teacher` (with `corpus`) or leave them out');
    }
    const hooks: TrainHooks = {
      signal: controller.signal,
      onStart: (info) => {
        note(info.backend.description);
        note(info.engine.description);
        note(
          `model: ${info.parameters.toLocaleString('en-US')} parameters (d=${info.config.hiddenSize}, ${info.config.layers} layers, ${info.config.heads} heads, vocab ${info.config.vocabSize}); ` +
            `corpus: ${info.corpusTokens.toLocaleString('en-US')} tokens; ${info.startStep > 0 ? `resuming at step ${info.startStep}` : 'starting at step 0'}`,
        );
        startStep = info.startStep;
        progress = new Progress({ label: 'train', total: options.steps - startStep, unit: 'steps' });
      },
      onProgress: (update) => {
        progress?.update(update.step - startStep, `step ${update.step} loss ${update.loss.toFixed(4)} ${Math.round(update.tokensPerSecond)} tok/s`);
      },
      onEvaluation: (evaluation) => {
        // Between progress redraws: a line of its own that stays in the log.
        progress?.clear();
        note(`eval step ${evaluation.step}/${evaluation.totalSteps}: cross-entropy ${evaluation.loss.toFixed(4)} per held-out token (${evaluation.tokens.toLocaleString('en-US')} tokens, ${evaluation.seconds.toFixed(2)} s)`);
      },
    };
    const result =
      trainOptions.objective === 'kd' && trainOptions.teacher !== undefined
        ? await distillOnline(trainOptions, onlineDistillOptionsSchema.parse(online ?? {}), hooks)
        : await train(trainOptions, hooks);
    progress?.finish();
    const last = result.losses.at(-1);
    const lastEval = result.evalLosses.at(-1);
    if (own.json) {
      log(JSON.stringify({ out: options.out, step: result.step, steps: options.steps, stopped: result.stopped, loss: last, ...(lastEval ? { evalLoss: lastEval.loss, evalLosses: result.evalLosses } : {}), checkpoint: result.checkpoint, backend: result.backend.name }));
    } else {
      log(`${result.stopped ? 'stopped' : 'finished'} at step ${result.step}/${options.steps}, loss ${last?.toFixed(4) ?? 'n/a'}${lastEval ? `, held-out cross-entropy ${lastEval.loss.toFixed(4)} at step ${lastEval.step}` : ''}; checkpoint: ${result.checkpoint}`);
    }
    // A run that did not finish must not read as a success to `kd train && kd export`.
    if (result.stopped) process.exitCode = interruptedExitCode;
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

export function trainCommand(): Command {
  return defineCommand({
    name: 'train',
    description: 'Train a Llama-style student on a corpus and write checkpoints (resumable)',
    library: trainCommandSchema,
    own: ownSchema,
    examples: [
      'kd train --corpus examples/corpus/train.jsonl --tokenizer examples/student-tokenizer/tokenizer.json \\',
      '         --hidden-size 256 --layers 2 --heads 4 --steps 2000 --batch-size 8 --sequence-length 128 --out out/student',
      'kd train --config examples/train.json --resume   # continue the same run after a stop',
      'kd train --objective kd --labels out/labels --teacher-tokenizer examples/teacher/tokenizer.json \\',
      '         --student-tokenizer examples/student-tokenizer/tokenizer.json --alpha 0.5 --steps 500 --out out/kd-student',
      'kd train --objective kd --teacher examples/teacher --teacher-tokenizer examples/teacher/tokenizer.json --corpus examples/corpus/train.jsonl \\',
      '         --student-tokenizer examples/student-tokenizer/tokenizer.json --mode fixed --k 16 --steps 500 --out out/online-student',
      'kd train --objective kd --teacher examples/teacher --corpus examples/corpus/train.jsonl --student-tokenizer examples/student-tokenizer/tokenizer.json \\',
      '         --mode full --steps 500 --out out/full-student   # every teacher probability mapped (full-distribution KD)',
    ],
    run: (options, own) => runTrain(options, own),
  });
}
