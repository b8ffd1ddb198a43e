#!/usr/bin/env node
// fieldgate runs its TypeScript sources through tsx; no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/gateway/cli/main.ts');
