#!/usr/bin/env node
// `npx chartflow ...`: runs the TypeScript CLI through tsx (the project ships sources, not builds).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../local/cli.ts');
process.exit(await main(process.argv.slice(2)));
