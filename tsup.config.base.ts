// One build shape for every published package: ESM (index.js + index.d.ts) and CommonJS
// (index.cjs + index.d.cts, for require() callers) from src/index.ts. The CJS build shims
// import.meta.url so code that locates files beside itself works in both.
import { defineConfig, type Options } from 'tsup';

export function packageConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    shims: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    ...overrides,
  });
}
