#!/usr/bin/env node
// The `twg` executable: plain node runs it; tsx (a runtime dependency) loads the TypeScript client.
import { register } from 'tsx/esm/api';

register();
await import('../main.ts');
