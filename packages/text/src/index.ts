// @kd/text: the one home of text: loading a tokenizer.json, special-token roles, framing a
// document, vocabulary size, corpus reading and task templates.
export { TextError, type TextErrorCode } from './errors.js';
export {
  loadTokenizer,
  type DecodeOptions,
  type EncodedText,
  type FrameOptions,
  type LoadTokenizerOptions,
  type Tokenizer,
} from './tokenizer.js';
export { specialTokenRoles, type RoleChoice, type RoleSource, type SpecialTokenRole, type SpecialTokenRoles } from './roles.js';
export type { TokenizerFamily } from './normalize.js';
export { assertTokenizerFits, defaultMaxVocabPadding, type VocabularyFitContext } from './vocabulary-check.js';
export { corpusFiles, readCorpus, readCorpusRecords, recordText, type CorpusDocument, type CorpusRecord, type CorpusRecordDocument, type ReadCorpusOptions } from './corpus.js';
export {
  applyTemplate,
  codePath,
  corpusTasks,
  isCorpusTask,
  taskAnswerFields,
  taskPrompt,
  taskTemplates,
  type CorpusTask,
  type TaskFields,
  type TemplateOverrides,
} from './templates.js';
