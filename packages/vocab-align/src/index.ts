// @kd/vocab-align: map teacher tokens onto a student vocabulary across tokenizer families, and
// align teacher and student positions by character offsets. Tokenizers come from @kd/text.
export { AlignError, type AlignErrorCode } from './errors.js';
export { createVocabularyMap, MatchKind, mappingRules, VocabularyMap, type MappingRule } from './vocabulary-map.js';
export { buildVocabularyMap, readVocabularyMap, vocabularyMapCachePath, type BuildVocabularyMapOptions } from './map-cache.js';
export { scatterAligned } from './scatter.js';
export { alignedFraction, alignPositions, type TokenSpans } from './positions.js';
export {
  coverageReport,
  datasetCoverage,
  vocabularyCoverage,
  type CoverageReport,
  type DatasetCoverage,
  type VocabularyCoverage,
} from './coverage.js';
export { groupedWidth, prefixGroups, type PrefixGroups } from './prefix-groups.js';
