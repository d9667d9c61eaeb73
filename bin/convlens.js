#!/usr/bin/env node
// The `convlens` bin: runs the TypeScript CLI through tsx (a runtime dependency), so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2)).catch((err) => {
  console.error(`convlens: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`);
  return err.name === 'UsageError' ? 2 : 1;
});
