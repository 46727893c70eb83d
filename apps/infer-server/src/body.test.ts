import { describe, expect, it } from 'vitest';
import { jsonDepth, parseJsonBody } from './body.js';
import { ServerError } from './errors.js';

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as ServerError).code;
  }
  return undefined;
};

describe('parseJsonBody', () => {
  it('parses JSON and treats an empty body as an empty object', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,{"b":2}]}'), 8)).toEqual({ a: [1, { b: 2 }] });
    expect(parseJsonBody(Buffer.from('  '), 8)).toEqual({});
  });

  it('refuses invalid UTF-8, bad JSON and deep nesting with their own codes', () => {
    expect(codeOf(() => parseJsonBody(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 8))).toBe('E_BAD_UTF8');
    expect(codeOf(() => parseJsonBody(Buffer.from('{"a":'), 8))).toBe('E_BAD_JSON');
    expect(codeOf(() => parseJsonBody(Buffer.from('['.repeat(100_000) + ']'.repeat(100_000)), 32))).toBe('E_JSON_TOO_DEEP');
  });

  it('counts depth outside strings only', () => {
    expect(jsonDepth('{"a":"[[[[{{{{\\"]]]"}')).toBe(1);
    expect(jsonDepth('[[[]],[[[]]]]')).toBe(4);
  });
});
