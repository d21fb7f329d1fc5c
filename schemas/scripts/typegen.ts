// Writes schemas/src/events.generated.ts from schemas/avro/*.avsc.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCurrentSchemas, SCHEMAS_DIR } from '../src/catalog.ts';
import { generateTypes } from '../src/typegen.ts';

const target = join(SCHEMAS_DIR, 'src', 'events.generated.ts');
writeFileSync(target, generateTypes(loadCurrentSchemas()));
console.log(`wrote ${target}`);
