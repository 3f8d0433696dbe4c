import { runCli } from '../cli.js';

/** Runs one command line in-process and returns its exit code and what it wrote. */
export async function runCaptured(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
  });
  return { code, stdout, stderr };
}
