// One way to build a `kd` subcommand from schemas: the library's options schema (the flags a
// library caller would pass as an object) and the command's own (`--json`, …). Flags and
// config-file values meet in one object in the library's shape and pass the same validation,
// so a wrong value reads the same whether it came from `--k-max 0` or `"kMax": 0` in a file;
// library errors that name an option (`learningRate`) are printed with its flag.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { z } from 'zod';
import { CliError } from './errors.js';
import { flagHelp, flagPlaceholder, flagsOf, flagValue, type FlagSpec, type UnionDefault } from './schema-flags.js';

type Json = Record<string, unknown>;

export interface CommandDefinition<Library extends z.ZodObject, Own extends z.ZodObject> {
  name: string;
  description: string;
  /** Lines shown under "Example:" in the help. */
  examples: string[];
  /** The library's options schema; omitted for commands with no library call of their own. */
  library?: Library;
  /** Options of the command itself (output format, display), also a strict zod object. */
  own: Own;
  /** A positional argument, e.g. `<dir>`. */
  argument?: { name: string; description: string };
  /** Values the command supplies when neither a flag nor the config file gave one, by option path. */
  fallbacks?: Record<string, { shown: string; value: () => unknown }>;
  /**
   * For a command whose config file is not one library's options (kd run: one section per
   * stage): the file goes to `run` whole, as read and parsed, instead of being split into flags.
   */
  wholeConfig?: boolean;
  run: (library: z.output<Library>, own: z.output<Own>, argument: string | undefined, config?: { path: string; values: Json }) => Promise<void>;
}

/** `--config FILE`, `--verbose`: options every command has. */
const commonFlags = ['config', 'verbose'];

function getPath(object: Json, path: string[]): unknown {
  let current: unknown = object;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Json)[key];
  }
  return current;
}

function setPath(object: Json, path: string[], value: unknown): void {
  let current = object;
  for (const key of path.slice(0, -1)) {
    if (typeof current[key] !== 'object' || current[key] === null || Array.isArray(current[key])) current[key] = {};
    current = current[key] as Json;
  }
  current[path.at(-1)!] = value;
}

function readConfig(path: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new CliError('E_CONFIG', `cannot read config file ${path}: ${(cause as Error).message}; pass a JSON object of option values`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError('E_CONFIG', `config file ${path} must hold one JSON object of option values, e.g. {"steps": 100, "model": {"hiddenSize": 64}}`);
  }
  return parsed as Json;
}

/** Deep copy of `base` with `over`'s values laid on top, object by object. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const below = out[key];
    const bothObjects = [value, below].every((side) => typeof side === 'object' && side !== null && !Array.isArray(side));
    out[key] = bothObjects ? merge(below as Json, value as Json) : value;
  }
  return out;
}

interface Source {
  config?: string;
  /** Option paths given as flags, joined with '.', mapped to their flag. */
  fromFlags: Map<string, string>;
  flagOfPath: Map<string, string>;
  configValues?: Json;
}

function describeIssue(issue: z.core.$ZodIssue, source: Source, schema: z.ZodObject): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const where = path.length > 0 ? `${path.join('.')}.` : '';
    const names = issue.keys.map((key) => `"${where}${key}"`).join(', ');
    const flagged = issue.keys.map((key) => source.fromFlags.get([...path, key].join('.'))).filter(Boolean);
    if (flagged.length > 0) {
      const variant = getPath(issue.input as Json, ['mode']);
      return `--${flagged[0]} does not apply${variant !== undefined ? ` with --mode ${String(variant)}` : ''}`;
    }
    const known = path.length === 0 ? `; known keys: ${Object.keys(schema.shape).join(', ')}` : '';
    return `config file ${source.config}: unknown key${issue.keys.length > 1 ? 's' : ''} ${names}${known}`;
  }
  const key = path.join('.');
  const given = 'input' in issue ? ` (got ${issue.input === undefined ? 'nothing' : JSON.stringify(issue.input)})` : '';
  const message = source.config ? issue.message : renameOptions(issue.message, source.flagOfPath);
  const problem = `${issue.input === undefined && issue.code === 'invalid_type' ? 'is required' : message}${issue.input === undefined ? '' : given}`;
  const flag = source.fromFlags.get(key);
  if (flag) return `--${flag}: ${problem}`;
  if (source.config && getPath(source.configValues ?? {}, path) !== undefined) return `config file ${source.config}: "${key}": ${problem}`;
  const named = source.flagOfPath.get(key);
  return `${named ? `--${named}` : `"${key}"`}: ${problem}`;
}

/** Validates the merged options with `schema`; the first problem becomes one E_USAGE line. */
function validate<Schema extends z.ZodObject>(schema: Schema, value: Json, source: Source): z.output<Schema> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new CliError('E_USAGE', describeIssue(result.error.issues[0]!, source, schema));
}

/** Rewrites the `option` names a library message quotes into the flags of this command. */
function renameOptions(message: string, flagOfPath: Map<string, string>): string {
  return message.replace(/`([A-Za-z][\w.]*)`/g, (whole, name: string) => {
    const flag = flagOfPath.get(name) ?? flagOfPath.get(name.split('.').at(-1)!);
    return flag ? `--${flag}` : whole;
  });
}

/** Rewrites `option` names that a library error quotes into the flags of this command. */
export function withFlagNames(error: unknown, flagOfPath: Map<string, string>): unknown {
  if (!(error instanceof Error)) return error;
  error.message = renameOptions(error.message, flagOfPath);
  return error;
}

function addFlags(command: Command, flags: FlagSpec[], fallbacks: CommandDefinition<z.ZodObject, z.ZodObject>['fallbacks'] = {}): void {
  for (const spec of flags) {
    const shown = fallbacks[spec.path.join('.')]?.shown;
    const help = flagHelp(spec, shown);
    if (spec.kind === 'boolean' && spec.defaultValue === true) {
      command.addOption(new Option(`--no-${spec.flag}`, `turn off: ${help}`));
    } else {
      command.addOption(new Option(`--${spec.flag}${flagPlaceholder(spec)}`, help));
    }
  }
}

/** Builds the commander command; its action validates, then calls `run`. */
export function defineCommand<Library extends z.ZodObject, Own extends z.ZodObject>(definition: CommandDefinition<Library, Own>): Command {
  const library = definition.library ? flagsOf(definition.library) : { flags: [], unionDefaults: [] as UnionDefault[] };
  const own = flagsOf(definition.own);
  const all = [...library.flags, ...own.flags];
  const seen = new Set<string>(commonFlags);
  for (const spec of all) {
    if (seen.has(spec.flag)) throw new Error(`kd ${definition.name}: two options give the flag --${spec.flag}`);
    seen.add(spec.flag);
  }
  const flagOfPath = new Map(all.map((spec) => [spec.path.join('.'), spec.flag]));
  const command = new Command(definition.name).description(definition.description);
  if (definition.argument) command.argument(`<${definition.argument.name}>`, definition.argument.description);
  addFlags(command, library.flags, definition.fallbacks);
  addFlags(command, own.flags, definition.fallbacks);
  command.option('--config <path>', "JSON file of option values in the library's names, e.g. {\"batchSize\": 4} (flags given here win)");
  command.option('--verbose', 'print the stack trace of an error');
  command.addHelpText('after', `\nExample:\n${definition.examples.map((line) => `  ${line}`).join('\n')}`);
  command.action(async (...args: unknown[]) => {
    const argument = definition.argument ? (args[0] as string) : undefined;
    const parsed = command.opts() as Json;
    const configPath = parsed.config as string | undefined;
    const whole = definition.wholeConfig && configPath ? { path: configPath, values: readConfig(configPath) } : undefined;
    const config = configPath && !whole ? readConfig(configPath) : {};
    const source: Source = { config: configPath, fromFlags: new Map(), flagOfPath, configValues: config };
    // Split the config file between the library's keys and the command's own.
    const ownKeys = new Set(Object.keys(definition.own.shape));
    const configLibrary: Json = {};
    const configOwn: Json = {};
    for (const [key, value] of Object.entries(config)) (ownKeys.has(key) ? configOwn : configLibrary)[key] = value;
    if (!definition.library && Object.keys(configLibrary).length > 0) {
      throw new CliError('E_USAGE', `config file ${configPath}: unknown key${Object.keys(configLibrary).length > 1 ? 's' : ''} ${Object.keys(configLibrary).map((key) => `"${key}"`).join(', ')}; known keys: ${[...ownKeys].join(', ')}`);
    }
    const fromFlags = (flags: FlagSpec[]): Json => {
      const values: Json = {};
      for (const spec of flags) {
        const attribute = spec.flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
        const source_ = command.getOptionValueSource(attribute);
        if (source_ !== 'cli') continue;
        setPath(values, spec.path, flagValue(spec, parsed[attribute]));
        source.fromFlags.set(spec.path.join('.'), spec.flag);
      }
      return values;
    };
    const libraryValues = merge(configLibrary, fromFlags(library.flags));
    const ownValues = merge(configOwn, fromFlags(own.flags));
    const libraryPaths = new Set(library.flags.map((spec) => spec.path.join('.')));
    for (const [path, fallback] of Object.entries(definition.fallbacks ?? {})) {
      const target = libraryPaths.has(path) ? libraryValues : ownValues;
      if (getPath(target, path.split('.')) === undefined) {
        const value = fallback.value();
        if (value !== undefined) setPath(target, path.split('.'), value);
      }
    }
    // A union field given in part takes the one variant its keys fit (`--k 8` is fixed mode),
    // else the variant of its default (`--k-max 16` is adaptive, the default mode).
    for (const union of library.unionDefaults) {
      const value = getPath(libraryValues, union.path);
      if (typeof value !== 'object' || value === null || (value as Json)[union.discriminator] !== undefined) continue;
      let fitting: string[] | undefined;
      for (const key of Object.keys(value)) {
        const variants = library.flags.find((spec) => spec.path.join('.') === [...union.path, key].join('.'))?.variants?.values;
        if (variants) fitting = fitting ? fitting.filter((name) => variants.includes(name)) : variants;
      }
      const variant = !fitting || fitting.includes(String(union.value)) || fitting.length !== 1 ? union.value : fitting[0];
      (value as Json)[union.discriminator] = variant;
    }
    const ownOptions = validate(definition.own, ownValues, source);
    const libraryOptions = definition.library ? validate(definition.library, libraryValues, source) : ({} as z.output<Library>);
    try {
      await definition.run(libraryOptions, ownOptions, argument, whole);
    } catch (error) {
      throw withFlagNames(error, flagOfPath);
    }
  });
  return command;
}
