// Freezes every current schema that has not been released yet:
//   history/<Name>/<fingerprint>.avsc   the writer schema, never edited afterwards
//   test/fixtures/<Name>/<fingerprint>.bin   a message written with it (single-object encoding)
// Run after changing a schema: `pnpm --filter @grokstream/schemas freeze`. The evolution spec then
// proves that the new reader still decodes every released version's bytes.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { HISTORY_DIR, SCHEMAS_DIR, loadCurrentSchemas } from '../src/catalog.ts';
import { schemaFingerprint } from '../src/fingerprint.ts';
import { fingerprintHex } from '../src/codec.ts';
import { sampleValue } from '../src/samples.ts';

const FIXTURES_DIR = join(SCHEMAS_DIR, 'test', 'fixtures');
let frozen = 0;
for (const { name, schema } of loadCurrentSchemas()) {
  const { fingerprint, bytes } = schemaFingerprint(schema);
  const hex = fingerprintHex(fingerprint);
  const schemaFile = join(HISTORY_DIR, name, `${hex}.avsc`);
  if (existsSync(schemaFile)) continue;
  mkdirSync(join(HISTORY_DIR, name), { recursive: true });
  mkdirSync(join(FIXTURES_DIR, name), { recursive: true });
  writeFileSync(schemaFile, `${JSON.stringify(schema, null, 2)}\n`);
  const body = avro.Type.forSchema(schema as avro.Schema).toBuffer(sampleValue(schema, name));
  writeFileSync(join(FIXTURES_DIR, name, `${hex}.bin`), Buffer.concat([Buffer.from([0xc3, 0x01]), bytes, body]));
  console.log(`froze ${name} ${hex}`);
  frozen++;
}
console.log(frozen === 0 ? 'every current schema is already frozen' : `${frozen} schema version(s) frozen`);
