// Where the nats-server binary is: shared by npm start (scripts/start.mjs) and the tests' broker
// (tools/jest-nats-setup.js), which both run one of their own. Plain JavaScript: both run before
// anything is built or mapped.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** `nats-server` on PATH, else where Debian's package puts it (/usr/sbin is not on every PATH). */
export function findNatsServer() {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
