#!/usr/bin/env node
// The `campaign` bin. It is committed (not built) so that npm links it at `npm ci`, which runs
// before any build: a bin whose target does not exist yet is never linked, and `npx campaign`
// then resolves an unrelated package of the same name on the registry.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'campaign: the CLI is not built yet: run `npm run build` at the repository root, then try again\n',
  );
  process.exit(2);
}
await import(main.href);
