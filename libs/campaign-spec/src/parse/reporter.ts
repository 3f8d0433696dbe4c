import { isScalar } from 'yaml';
import type { SpecDiagnostic } from './diagnostics.js';
import { sourceOffsetInScalar } from './scalar-positions.js';
import { locate, positionOf, type ReadSpec, type SpecPath } from './yaml-reader.js';

/** Collects diagnostics, positioning each at the key or value of a path in the spec file. */
export class Reporter {
  readonly errors: SpecDiagnostic[] = [];
  readonly warnings: SpecDiagnostic[] = [];

  constructor(private readonly read: ReadSpec) {}

  private add(
    severity: SpecDiagnostic['severity'],
    offset: number,
    path: SpecPath,
    message: string,
  ): void {
    const { line, column } = positionOf(this.read, offset);
    const list = severity === 'error' ? this.errors : this.warnings;
    if (list.some((d) => d.line === line && d.column === column && d.message === message)) return;
    list.push({ severity, line, column, message, path: [...path] });
  }

  /** At the value of `path` (or its nearest written ancestor). */
  value(path: SpecPath, message: string, severity: SpecDiagnostic['severity'] = 'error'): void {
    const found = locate(this.read, path);
    this.add(severity, found?.valueRange[0] ?? 0, path, message);
  }

  /** At the key of `path` when it is inside a mapping, else at its value. */
  key(path: SpecPath, message: string, severity: SpecDiagnostic['severity'] = 'error'): void {
    const found = locate(this.read, path);
    this.add(severity, found?.keyRange?.[0] ?? found?.valueRange[0] ?? 0, path, message);
  }

  /** At an offset inside the string value of `path`: a template's or a query's own position. */
  inValue(
    path: SpecPath,
    valueOffset: number,
    message: string,
    severity: SpecDiagnostic['severity'] = 'error',
  ): void {
    const found = locate(this.read, path);
    const node = found?.node;
    const offset =
      node && isScalar(node)
        ? sourceOffsetInScalar(this.read.text, node, valueOffset)
        : (found?.valueRange[0] ?? 0);
    this.add(severity, offset, path, message);
  }

  /** At an offset of the file itself. */
  offset(offset: number, message: string, severity: SpecDiagnostic['severity'] = 'error'): void {
    this.add(severity, offset, [], message);
  }
}
