#!/usr/bin/env node
import { getEventListeners } from 'node:events';
import { runCli } from './cli.js';
import { EXIT } from './command.js';

// Whoever reads stdout may stop early (`campaign audit NAME --json | head -1`): that is not an
// error of ours, so exit quietly instead of dying with a stack trace on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

// Ctrl-C: a command following an apply stops waiting and says how to go on (it listens on the
// signal); anything else stops at once, as without a handler.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted || getEventListeners(interrupt.signal, 'abort').length === 0)
    process.exit(EXIT.interrupted);
  interrupt.abort();
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  stderrIsTTY: process.stderr.isTTY === true,
  stderrTerminal: process.stderr.isTTY === true ? process.stderr : undefined,
  stdoutIsTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns,
  // Only `-f -` touches stdin: creating the stream earlier could hold a terminal open.
  get stdin() {
    return process.stdin;
  },
  interrupt: interrupt.signal,
});
