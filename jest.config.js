// Jest runs the TypeScript sources as native ESM (the project is "type": "module", and middy is
// ESM-only). @swc/jest strips the types; `tsc --noEmit` type-checks in CI.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/local/**/*.test.ts'],
  testTimeout: 60000,
  // On 2 cores jest runs the suites in its own process. One clean-clone CI run (2026-12-07) ended
  // every test green but kept a server listening on 127.0.0.1, so the process never exited; a
  // --detectOpenHandles run found none. Exit once the results are in rather than hang CI; the
  // leak is listed in the closing note of that day.
  forceExit: true,
};
