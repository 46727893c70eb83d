// Selection kernels of @kd/compress against a full sort of the vocabulary.
import { benchSelect } from '../packages/compress/bench/select.js';
import { machine, table, type SectionResult } from './report.js';

export async function benchSelectSection(): Promise<Omit<SectionResult, 'command'>> {
  const results = await benchSelect();
  const markdown = [
    'Pure-JS selection (the library API and the test reference; labelling itself runs Softmax+TopK inside the ONNX graph) on seeded softmax rows. The bounded heap never sorts the vocabulary.',
    '',
    table(['measure', 'value', 'unit'], results.map((result) => [result.name, result.value, result.unit])),
  ].join('\n');
  return { title: 'Selection kernels (@kd/compress)', date: new Date().toISOString().slice(0, 10), machine: machine(), markdown, data: results };
}
