import { describe, expect, it } from 'vitest';
import { ServerError } from './errors.js';
import { flags, helpText, parseFlags } from './flags.js';
import { serverOptionsSchema } from './options.js';

const fails = (argv: string[]) => {
  try {
    parseFlags(argv, {});
  } catch (error) {
    return error as ServerError;
  }
  throw new Error('expected a refusal');
};

describe('infer-server flags', () => {
  it('has one flag per server option, listed in the help', () => {
    expect(flags.map((flag) => flag.key).sort()).toEqual(Object.keys(serverOptionsSchema.shape).sort());
    for (const flag of flags) expect(helpText()).toContain(`--${flag.flag}`);
  });

  it('parses numbers and strings, and takes the API key from KD_API_KEY', () => {
    const parsed = parseFlags(['--models-dir', 'models', '--port', '9000', '--host', '0.0.0.0', '--max-batch', '1'], { KD_API_KEY: 'secret' });
    expect(parsed).toEqual({ help: false, options: { modelsDir: 'models', port: 9000, host: '0.0.0.0', maxBatch: 1, apiKey: 'secret' } });
    expect(parseFlags(['--help'], {})).toEqual({ help: true });
  });

  it('refuses a missing models folder, unknown flags and bad values with the flag named', () => {
    expect(fails([]).message).toContain('--models-dir');
    expect(fails(['--models-dir', 'm', '--prot', '1']).code).toBe('E_OPTIONS');
    expect(fails(['--models-dir', 'm', '--port', 'eighty']).message).toContain('--port');
    expect(fails(['--models-dir', 'm', '--port', '70000']).message).toContain('--port');
    expect(fails(['--models-dir', 'm', '--concurrency', '0']).message).toContain('--concurrency');
  });
});
