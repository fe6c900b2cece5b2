#!/usr/bin/env node
// The `twg` executable: plain node runs it; tsx (a runtime dependency) loads the TypeScript client,
// with the package's own tsconfig whatever directory twg is run from.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)) });
await import('../main.ts');
