import { describe, expect, it } from 'vitest';
import { TextError } from './errors.js';
import { applyTemplate, codePath, corpusTasks, isCorpusTask, taskAnswerFields, taskPrompt, taskTemplates } from './templates.js';

describe('task templates', () => {
  it('has one template per task, each filled from its record fields', () => {
    expect(Object.keys(taskTemplates)).toEqual([...corpusTasks]);
    expect(applyTemplate('text', { text: 'plain' })).toBe('plain');
    expect(applyTemplate('code', { path: codePath('py/json/decoder.py'), text: 'import re' })).toBe('# file: json/decoder.py\nimport re');
    expect(applyTemplate('classify', { input: 'Win money', label: 'spam' })).toBe('Classify the email as spam or ham.\nWin money\nLabel: spam');
    expect(applyTemplate('translate', { src: 'file not found', tgt: 'Datei nicht gefunden' })).toBe(
      'Translate English to German.\nEnglish: file not found\nGerman: Datei nicht gefunden',
    );
  });

  it('cuts a prompt just before the answer, so generation or label scoring continues it', () => {
    expect(taskPrompt('classify', { input: 'Win money' })).toBe('Classify the email as spam or ham.\nWin money\nLabel: ');
    expect(taskPrompt('translate', { src: 'cat', tgt_lang: 'French' })).toBe('Translate English to French.\nEnglish: cat\nFrench: ');
    expect(taskPrompt('text', { text: 'Once' })).toBe('Once');
    for (const task of corpusTasks) {
      const answer = taskAnswerFields[task];
      if (!answer) continue;
      const fields = { text: 't', path: 'p', input: 'i', label: 'ham', src: 's', tgt: 'z' };
      expect(applyTemplate(task, fields).startsWith(taskPrompt(task, fields))).toBe(true);
      expect(applyTemplate(task, fields).endsWith(fields[answer as keyof typeof fields])).toBe(true);
    }
  });

  it('refuses a missing field and an unknown task with E_TEMPLATE', () => {
    expect(() => applyTemplate('classify', { input: 'x' })).toThrow(/label/);
    expect(() => applyTemplate('poetry' as never, {})).toThrow(TextError);
    expect(isCorpusTask('code')).toBe(true);
    expect(isCorpusTask('poetry')).toBe(false);
    try {
      applyTemplate('classify', {});
    } catch (error) {
      expect((error as TextError).code).toBe('E_TEMPLATE');
    }
  });

  it('fills a template override (a model folder\'s templates.json) instead of the built-in one', () => {
    const overrides = { translate: 'From {src_lang} into {tgt_lang}:\n{src}\n=> {tgt}' };
    expect(taskPrompt('translate', { src: 'cat' }, overrides)).toBe('From English into German:\ncat\n=> ');
    expect(applyTemplate('translate', { src: 'cat', tgt: 'Katze' }, overrides)).toBe('From English into German:\ncat\n=> Katze');
    expect(taskPrompt('classify', { input: 'Win' }, overrides)).toBe('Classify the email as spam or ham.\nWin\nLabel: ');
    expect(() => taskPrompt('classify', { input: 'Win' }, { classify: 'no answer here: {input}' })).toThrow(/no \{label\} placeholder/);
  });
});
