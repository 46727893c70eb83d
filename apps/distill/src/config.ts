// Flags may also come from a JSON config file (`--config FILE`); a flag given on the command
// line wins over the file. Keys are the flags' long names in camelCase or kebab-case.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from './errors.js';

const camel = (key: string) => key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** Loads the config file named by `--config` (if any) into options that the command line left unset. */
export function applyConfigFile(command: Command): void {
  const path = command.getOptionValue('config') as string | undefined;
  if (!path) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new CliError('E_CONFIG', `cannot read config file ${path}: ${(cause as Error).message}; pass a JSON object of flag values`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError('E_CONFIG', `config file ${path} must hold one JSON object of flag values, e.g. {"mode": "fixed", "k": 32}`);
  }
  const known = new Map(command.options.map((option) => [option.attributeName(), option]));
  for (const [rawKey, value] of Object.entries(parsed)) {
    const key = camel(rawKey);
    if (!known.has(key) || key === 'config') {
      throw new CliError('E_CONFIG', `config file ${path}: unknown key "${rawKey}"; known keys: ${[...known.keys()].filter((k) => k !== 'config').join(', ')}`);
    }
    const source = command.getOptionValueSource(key);
    if (source === 'cli' || source === 'env') continue;
    command.setOptionValueWithSource(key, value, 'config');
  }
}
