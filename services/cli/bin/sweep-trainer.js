#!/usr/bin/env node
// Not a command: the trainer process `grokstream sweep --workers N` forks N of (trainer-pool.ts).
// Loads its TypeScript through tsx, as grokstream.js does.
import { register } from 'tsx/esm/api';

register();
await import('../src/sweep-trainer.ts');
