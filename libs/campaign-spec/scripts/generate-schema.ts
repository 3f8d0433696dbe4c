// Regenerates schema/campaign-spec.schema.json from the zod definition, formatted like every
// other file (Prettier), so that the committed file and the definition never drift:
//   node --import tsx libs/campaign-spec/scripts/generate-schema.ts [--check]
// With --check it writes nothing and exits 1 when the committed file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { formattedCampaignSpecJsonSchema } from '../src/test-support/json-schema-file.js';
import { JSON_SCHEMA_PATH } from '../src/spec/json-schema.js';

const target = fileURLToPath(new URL(`../../../${JSON_SCHEMA_PATH}`, import.meta.url));
const text = await formattedCampaignSpecJsonSchema(target);
if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== text) {
    process.stderr.write(`${JSON_SCHEMA_PATH} is out of date; run this script without --check\n`);
    process.exitCode = 1;
  }
} else {
  await writeFile(target, text);
  process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`);
}
