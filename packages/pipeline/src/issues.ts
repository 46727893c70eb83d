// Turns the first zod issue of an options object into one line in the library's own option
// names (`compression.kMax`), with the value that was given.
import type { z } from 'zod';

export function describeOptionsIssue(issue: z.core.$ZodIssue | undefined, schema: z.ZodObject): string {
  if (!issue) return 'invalid';
  const where = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((key) => `\`${where ? `${where}.` : ''}${key}\``).join(', ');
    const known = where ? '' : `; the options are ${Object.keys(schema.shape).join(', ')}`;
    return `unknown option${issue.keys.length > 1 ? 's' : ''} ${names}${known}`;
  }
  const given = 'input' in issue && issue.input !== undefined ? ` (got ${JSON.stringify(issue.input)})` : '';
  return `\`${where || 'options'}\`: ${issue.message}${given}`;
}
