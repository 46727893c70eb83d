// Command-line flags derived from a library's zod options schema (citty's `ArgsDef` idea): the
// schema is the one declaration of names, descriptions, defaults, choices and required-ness.
//
// Rules (documented in the README):
// - a field's flag is the kebab-case of its name: `learningRate` → `--learning-rate`;
// - the fields of a nested object become flags of their own names (`model.hiddenSize` →
//   `--hidden-size`); when two fields would share a flag, both take their full path
//   (`--model-hidden-size`);
// - a discriminated union (`compression`: fixed | adaptive) gives its discriminator as a flag
//   (`--mode`) and the fields of every variant as flags, marked with the variants they apply to;
//   without `--mode` the variant of the field's default is used;
// - booleans are switches (`--resume`); one that defaults to true is turned off with `--no-…`;
//   arrays take several values (`--tasks code translate`).
// Defaults are never copied into the CLI: they are shown in the help and applied by the schema.
import { z } from 'zod';

export type FlagKind = 'string' | 'number' | 'boolean' | 'array';

export interface FlagSpec {
  /** Long flag without dashes: `hidden-size`. */
  flag: string;
  /** Path of the option in the schema's object: `['model', 'hiddenSize']`. */
  path: string[];
  kind: FlagKind;
  choices?: string[];
  description: string;
  defaultValue?: unknown;
  required: boolean;
  /** For fields of a union variant: the discriminator and the variants the field belongs to. */
  variants?: { discriminator: string; values: string[] };
  /** The union's discriminator flag (`--mode`), which picks the variant. */
  discriminator?: boolean;
}

/** Where a union field's variant comes from when the flags do not name one. */
export interface UnionDefault {
  path: string[];
  discriminator: string;
  value: unknown;
}

interface Unwrapped {
  schema: z.ZodType;
  optional: boolean;
  defaultValue?: unknown;
  description?: string;
}

const wrappers = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

function definition(schema: z.ZodType): Record<string, unknown> & { type: string } {
  return (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
}

/** Peels optional/default/… layers, collecting the description (outermost wins) and the default. */
function unwrap(schema: z.ZodType): Unwrapped {
  let current = schema;
  let optional = false;
  let defaultValue: unknown;
  let description = current.description;
  for (;;) {
    const def = definition(current);
    if (!wrappers.has(def.type)) break;
    if (def.type === 'optional') optional = true;
    if ((def.type === 'default' || def.type === 'prefault') && defaultValue === undefined) {
      optional = true;
      defaultValue = def.defaultValue;
    }
    current = def.innerType as z.ZodType;
    description ??= current.description;
  }
  return { schema: current, optional, defaultValue, description };
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

function leafOf(schema: z.ZodType): { kind: FlagKind; choices?: string[] } | undefined {
  const def = definition(schema);
  switch (def.type) {
    case 'string':
      return { kind: 'string' };
    case 'number':
    case 'int':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'enum':
      return { kind: 'string', choices: Object.values(def.entries as Record<string, string>) };
    case 'literal':
      return { kind: 'string', choices: (def.values as unknown[]).map(String) };
    case 'array': {
      const element = leafOf(unwrap(def.element as z.ZodType).schema);
      return { kind: 'array', choices: element?.choices };
    }
    default:
      return undefined;
  }
}

interface Collected {
  flags: FlagSpec[];
  unionDefaults: UnionDefault[];
}

function collect(shape: Record<string, z.ZodType>, prefix: string[], out: Collected, variants?: FlagSpec['variants'], parentOptional = false): void {
  for (const [key, field] of Object.entries(shape)) {
    const path = [...prefix, key];
    const { schema, optional, defaultValue, description } = unwrap(field);
    const def = definition(schema);
    if (def.type === 'object') {
      collect(def.shape as Record<string, z.ZodType>, path, out, variants, parentOptional || optional);
      continue;
    }
    if (def.type === 'union' && typeof def.discriminator === 'string') {
      collectUnion(path, def.options as z.ZodType[], def.discriminator, { defaultValue, description, optional: parentOptional || optional }, out);
      continue;
    }
    const leaf = leafOf(schema);
    if (!leaf) throw new Error(`option ${path.join('.')}: a ${def.type} schema has no command-line form`);
    out.flags.push({
      flag: kebab(key),
      path,
      ...leaf,
      description: description ?? '',
      defaultValue,
      required: !optional && !parentOptional && !variants,
      ...(variants ? { variants } : {}),
    });
  }
}

function collectUnion(
  path: string[],
  options: z.ZodType[],
  discriminator: string,
  field: { defaultValue: unknown; description?: string; optional: boolean },
  out: Collected,
): void {
  const byKey = new Map<string, { schema: z.ZodType; values: string[] }>();
  const values: string[] = [];
  for (const option of options) {
    const shape = definition(unwrap(option).schema).shape as Record<string, z.ZodType>;
    const value = String((definition(unwrap(shape[discriminator]!).schema).values as unknown[])[0]);
    values.push(value);
    for (const [key, schema] of Object.entries(shape)) {
      if (key === discriminator) continue;
      const entry = byKey.get(key) ?? { schema, values: [] };
      entry.values.push(value);
      byKey.set(key, entry);
    }
  }
  const defaultVariant = (field.defaultValue as Record<string, unknown> | undefined)?.[discriminator];
  if (defaultVariant !== undefined) out.unionDefaults.push({ path, discriminator, value: defaultVariant });
  out.flags.push({
    flag: kebab(discriminator),
    path: [...path, discriminator],
    kind: 'string',
    choices: values,
    description: field.description ?? '',
    defaultValue: defaultVariant,
    required: defaultVariant === undefined && !field.optional,
    discriminator: true,
  });
  for (const [key, { schema, values: only }] of byKey) {
    collect({ [key]: schema }, path, out, { discriminator, values: only }, true);
  }
}

/** The flags of an options schema (a zod object), in the schema's field order. */
export function flagsOf(schema: z.ZodObject): { flags: FlagSpec[]; unionDefaults: UnionDefault[] } {
  const out: Collected = { flags: [], unionDefaults: [] };
  collect(schema.shape as Record<string, z.ZodType>, [], out);
  // Variant fields shared by several variants were collected once per key already; two
  // different paths that give the same flag both take their full path.
  const counts = new Map<string, number>();
  for (const spec of out.flags) counts.set(spec.flag, (counts.get(spec.flag) ?? 0) + 1);
  for (const spec of out.flags) {
    if ((counts.get(spec.flag) ?? 0) > 1) spec.flag = spec.path.map(kebab).join('-');
  }
  return out;
}

/** Help text of a flag: the schema's description, then its choices, default and variants. */
export function flagHelp(spec: FlagSpec, shownDefault?: string): string {
  const notes: string[] = [];
  if (spec.variants) notes.push(`${spec.variants.discriminator} ${spec.variants.values.join(', ')}`);
  if (spec.choices && spec.kind !== 'boolean') notes.push(`choices: ${spec.choices.join(', ')}`);
  if (shownDefault !== undefined) notes.push(`default: ${shownDefault}`);
  else if (spec.defaultValue !== undefined && !(spec.kind === 'boolean' && spec.defaultValue === false)) notes.push(`default: ${formatValue(spec.defaultValue)}`);
  if (spec.required && shownDefault === undefined) notes.push('required');
  return [spec.description, notes.length > 0 ? `(${notes.join('; ')})` : ''].filter(Boolean).join(' ');
}

function formatValue(value: unknown): string {
  return Array.isArray(value) ? value.join(' ') : typeof value === 'string' ? value : JSON.stringify(value);
}

/** The placeholder shown after a flag: `<n>`, `<fixed|adaptive>`, `<tasks...>`. */
export function flagPlaceholder(spec: FlagSpec): string {
  if (spec.kind === 'boolean') return '';
  if (spec.kind === 'number') return ' <n>';
  const last = spec.path.at(-1)!;
  if (spec.kind === 'array') return ` <${kebab(last)}...>`;
  if (spec.choices) return ` <${kebab(last)}>`;
  return ` <${/corpus|tokenizer|config|path|file/i.test(last) ? 'path' : /dir|out|checkpoint|teacher|dataset/i.test(last) ? 'dir' : 'value'}>`;
}

/**
 * A flag's text value as the schema expects it: a number when it reads as one (otherwise the
 * text, so that the schema reports what was given), arrays element by element.
 */
export function flagValue(spec: FlagSpec, raw: unknown): unknown {
  if (spec.kind === 'number' && typeof raw === 'string') {
    const number = Number(raw);
    return raw.trim() !== '' && Number.isFinite(number) ? number : raw;
  }
  return raw;
}
