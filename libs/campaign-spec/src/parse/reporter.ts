import { isScalar, type Node } from 'yaml';
import type { SpecDiagnostic } from './diagnostics.js';
import { scalarSourceOffsets } from './scalar-positions.js';
import { MAX_LISTED_PER_CHECK } from './work.js';
import { locate, positionOf, type ReadSpec, type SpecPath } from './yaml-reader.js';

/** Collects diagnostics, positioning each at the key or value of a path in the spec file. */
export class Reporter {
  readonly errors: SpecDiagnostic[] = [];
  readonly warnings: SpecDiagnostic[] = [];
  /** Errors found but too many to describe: counted in the summary only. */
  undescribedErrors = 0;
  /** line:column:message of each diagnostic, so that one reported twice is listed once. */
  private readonly seen = new Set<string>();
  /** Each scalar's value-to-source alignment, computed once however many problems it has. */
  private readonly scalarOffsets = new Map<Node, (valueOffset: number) => number>();

  constructor(private readonly read: ReadSpec) {}

  private add(
    severity: SpecDiagnostic['severity'],
    offset: number,
    path: SpecPath,
    message: string,
  ): void {
    const { line, column } = positionOf(this.read, offset);
    const key = `${severity}:${line}:${column}:${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const list = severity === 'error' ? this.errors : this.warnings;
    list.push({ severity, line, column, message, path: [...path] });
  }

  /** At the value of `path` (or its nearest written ancestor). */
  value(path: SpecPath, message: string, severity: SpecDiagnostic['severity'] = 'error'): void {
    const found = locate(this.read, path);
    this.add(severity, found?.valueOffset ?? 0, path, message);
  }

  /** At the key of `path` when it is inside a mapping, else at its value. */
  key(path: SpecPath, message: string, severity: SpecDiagnostic['severity'] = 'error'): void {
    const found = locate(this.read, path);
    this.add(severity, found?.keyOffset ?? found?.valueOffset ?? 0, path, message);
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
    let offset = found?.valueOffset ?? 0;
    if (node && isScalar(node)) {
      let offsets = this.scalarOffsets.get(node);
      if (!offsets) {
        offsets = scalarSourceOffsets(this.read.text, node);
        this.scalarOffsets.set(node, offsets);
      }
      offset = offsets(valueOffset);
    }
    this.add(severity, offset, path, message);
  }

  /** Where checking stopped early: listed after the errors, however many there are. */
  stopped?: SpecDiagnostic;

  /** Checking stopped at `path` (the problems after it are not looked for). */
  stop(path: SpecPath, message: string): void {
    const found = locate(this.read, path);
    const { line, column } = positionOf(this.read, found?.keyOffset ?? found?.valueOffset ?? 0);
    this.stopped = { severity: 'error', line, column, message, path: [...path] };
  }

  /** At an offset of the file itself. */
  offset(offset: number, message: string, severity: SpecDiagnostic['severity'] = 'error'): void {
    this.add(severity, offset, [], message);
  }
}

/**
 * Lists the first MAX_LISTED_PER_CHECK problems of one kind at their own values and sums up the
 * rest in one more diagnostic, at the first that was not listed.
 */
export class CappedProblems {
  private listed = 0;
  private unlisted = 0;
  private firstUnlisted: SpecPath = [];

  constructor(
    private readonly reporter: Reporter,
    private readonly severity: SpecDiagnostic['severity'] = 'error',
    private readonly limit = MAX_LISTED_PER_CHECK,
  ) {}

  value(path: SpecPath, message: string): void {
    if (this.listed < this.limit) {
      this.listed += 1;
      this.reporter.value(path, message, this.severity);
    } else {
      if (this.unlisted === 0) this.firstUnlisted = path;
      this.unlisted += 1;
    }
  }

  /** Reports `summary(n)` when n problems were not listed. */
  finish(summary: (unlisted: number, listed: number) => string): void {
    if (this.unlisted > 0) {
      this.reporter.value(this.firstUnlisted, summary(this.unlisted, this.listed), this.severity);
    }
  }
}
