import { Readable } from 'node:stream';
import { runCli } from '../cli.js';

/** Runs one command line in-process and returns its exit code and what it wrote. */
export async function runCaptured(...argv: string[]) {
  return runCapturedIn({}, argv);
}

/** The same with `env` as the whole environment, and `stdin` on standard input when given. */
export async function runCapturedIn(env: NodeJS.ProcessEnv, argv: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
  });
  return { code, stdout, stderr };
}
