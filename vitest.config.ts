// One vitest run over every package; tests import workspace packages from src, so no build is needed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      // Test support of @kd/text (the real tokenizers the tests run on); listed before the package itself.
      '@kd/text/testing': fileURLToPath(new URL('./packages/text/src/test-tokenizers.ts', import.meta.url)),
      '@kd/text': src('text'),
      '@kd/lm-signature': src('lm-signature'),
      '@kd/teacher': src('teacher'),
      // Test support of @kd/compress (not part of its public API); listed before the package itself.
      '@kd/compress/testing': fileURLToPath(new URL('./packages/compress/src/testing.ts', import.meta.url)),
      '@kd/compress': src('compress'),
      '@kd/codec-parquet': src('codec-parquet'),
      '@kd/vocab-align': src('vocab-align'),
      '@kd/trainer': src('trainer'),
      '@kd/infer': src('infer'),
      '@kd/infer-server': fileURLToPath(new URL('./apps/infer-server/src/index.ts', import.meta.url)),
      '@kd/pipeline': src('pipeline'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
