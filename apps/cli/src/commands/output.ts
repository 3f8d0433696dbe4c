import { stringify } from 'yaml';
import type { CliIo } from '../command.js';

/** Prints data as JSON (indented) or YAML on stdout. */
export function printData(io: CliIo, format: 'json' | 'yaml', data: unknown): void {
  io.stdout(format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : yamlText(data));
}

/** Data as a YAML document; long strings stay on one line. */
export function yamlText(data: unknown): string {
  return stringify(data, { lineWidth: 0 });
}
