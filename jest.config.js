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
};
