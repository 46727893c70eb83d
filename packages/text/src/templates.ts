// The corpus tasks and their prompt templates: the one source of truth for the text a model
// reads for a record, used by labelling, training, export (templates.json) and inference.
import { TextError } from './errors.js';

/** The tasks a corpus record can have, in the order documentation lists them. */
export const corpusTasks = ['text', 'code', 'classify', 'translate'] as const;
export type CorpusTask = (typeof corpusTasks)[number];

/**
 * The prompt template of each task, with `{field}` placeholders (the teacher fixture was
 * trained with these). `code` fills `{path}` from the record id without its source prefix.
 */
export const taskTemplates: Readonly<Record<CorpusTask, string>> = {
  text: '{text}',
  code: '# file: {path}\n{text}',
  classify: 'Classify the email as spam or ham.\n{input}\nLabel: {label}',
  translate: 'Translate {src_lang} to {tgt_lang}.\n{src_lang}: {src}\n{tgt_lang}: {tgt}',
};

/** The field a task's model output answers (what inference generates or scores); absent for plain text and code. */
export const taskAnswerFields: Readonly<Partial<Record<CorpusTask, string>>> = { classify: 'label', translate: 'tgt' };

/** Field values a template is filled with; `src_lang`/`tgt_lang` default to English/German. */
export type TaskFields = Readonly<Record<string, string | undefined>>;

const fieldDefaults: Readonly<Record<string, string>> = { src_lang: 'English', tgt_lang: 'German' };

export function isCorpusTask(value: unknown): value is CorpusTask {
  return typeof value === 'string' && (corpusTasks as readonly string[]).includes(value);
}

function fill(task: CorpusTask, template: string, fields: TaskFields): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = fields[name] ?? fieldDefaults[name];
    if (value === undefined) {
      throw new TextError('E_TEMPLATE', `the ${task} template needs the field ${name}; got fields ${JSON.stringify(Object.keys(fields))}`);
    }
    return value;
  });
}

/**
 * Templates that replace the built-in ones for some tasks, e.g. the templates.json a model
 * folder ships (kd export writes the ones the model was trained with).
 */
export type TemplateOverrides = Readonly<Partial<Record<string, string>>>;

function templateOf(task: CorpusTask, overrides: TemplateOverrides | undefined): string {
  if (!isCorpusTask(task)) throw new TextError('E_TEMPLATE', `unknown task ${JSON.stringify(task)}; expected one of ${corpusTasks.join(', ')}`);
  return overrides?.[task] ?? taskTemplates[task];
}

/** The text the model reads for a record of `task`: its template (or the override's) with the fields filled in. */
export function applyTemplate(task: CorpusTask, fields: TaskFields, overrides?: TemplateOverrides): string {
  return fill(task, templateOf(task, overrides), fields);
}

/**
 * The prompt of a task up to its answer: the template cut just before the answer placeholder
 * (`…\nLabel: ` for classify, `…\nGerman: ` for translate), filled in. Text and code have no
 * answer field: their prompt is the whole filled template.
 */
export function taskPrompt(task: CorpusTask, fields: TaskFields, overrides?: TemplateOverrides): string {
  const template = templateOf(task, overrides);
  const answer = taskAnswerFields[task];
  const cut = answer === undefined ? template.length : template.lastIndexOf(`{${answer}}`);
  if (cut < 0) throw new TextError('E_TEMPLATE', `the ${task} template ${JSON.stringify(template)} has no {${answer}} placeholder for the answer`);
  return fill(task, template.slice(0, cut), fields);
}

/** The code task's path: the record id without its source prefix (`py/json/decoder.py` → `json/decoder.py`). */
export function codePath(id: string): string {
  const slash = id.indexOf('/');
  return slash >= 0 ? id.slice(slash + 1) : id;
}
