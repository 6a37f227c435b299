#!/usr/bin/env node
// `npx chartflow ...`: runs the TypeScript CLI through tsx (the project ships sources, not builds).
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../local/cli.ts');
process.exit(await run(process.argv.slice(2)));
