// A teacher run that fails inside onnxruntime, in its own process so that a test can read
// everything the process writes to stderr (onnxruntime's C++ logger writes there directly).
// Usage: node --import tsx runtime-error-child.ts <teacherDir>; prints the error's code.
import { loadTeacher } from './teacher.js';

const teacher = await loadTeacher(process.argv[2]!, { threads: 1 });
try {
  // An id far beyond the vocabulary makes the embedding lookup fail inside the graph.
  await teacher.forwardLogits(Int32Array.of(1, 2 ** 30), undefined, 1, 2);
  process.stdout.write('no error\n');
} catch (error) {
  process.stdout.write(`${JSON.stringify({ name: (error as Error).name, code: (error as { code?: string }).code, message: (error as Error).message })}\n`);
} finally {
  await teacher.close();
}
