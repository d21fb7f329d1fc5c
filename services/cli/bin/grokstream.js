#!/usr/bin/env node
// Loads the TypeScript entry point in this same process through tsx's loader, so the command
// works from a plain checkout and signals (Ctrl-C) reach the trainer directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
