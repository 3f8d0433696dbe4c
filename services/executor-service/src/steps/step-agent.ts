import { randomBytes } from 'node:crypto';
import { Writable, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { OutputTail } from './output-tail.js';

/**
 * The agent of a warm container and the executor's end of it: how one step's run is sent to a
 * container that is already running, and how its output and exit code come back.
 */

/** Where a warm container finds the run scripts the executor writes. */
export const CONTROL_PATH = '/run/campaigns-control';
/**
 * PID 1's child in a warm container: runs one step per line it reads on stdin (`<script>
 * <marker>`), with the step's stdin from /dev/null, then writes the marker and the exit code to
 * stdout and the marker to stderr, so the executor knows where one run's output ends. The
 * executor attaches once with StdinOnce: when it dies its connection drops, stdin closes and the
 * container ends (AutoRemove). Shell builtins only, so any image with /bin/sh can run it; a run
 * costs a fork instead of a `docker exec` (~35 ms of CPU in the engine each).
 */
export const AGENT_SCRIPT = [
  "trap 'exit 0' TERM INT",
  "while IFS=' ' read -r script marker; do",
  // In the background, so a TERM (a step that kills PID 1) ends the agent at once.
  `  /bin/sh "${CONTROL_PATH}/$script" </dev/null &`,
  '  wait $!',
  '  rc=$?',
  `  printf '%s %s\\n' "$marker" "$rc"`,
  `  printf '%s\\n' "$marker" >&2`,
  'done',
].join('\n');

/** Environment names a run script can export; others go through `docker exec`. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether the agent can run with this environment (else the run goes through `docker exec`). */
export function agentCanRun(env: readonly string[]): boolean {
  return env.every((e) => SHELL_NAME.test(e.slice(0, e.indexOf('='))));
}

/** The value as one single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The script the agent runs for one step: its directory, its environment, then its command. */
export function runScript(exec: {
  readonly command: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
}): string {
  // Removed by the executor when the run ends (an `rm` here was one more process per step).
  const lines = [`cd ${shellQuote(exec.workingDir)} || exit 126`];
  for (const assignment of exec.env) {
    const eq = assignment.indexOf('=');
    lines.push(`export ${assignment.slice(0, eq)}=${shellQuote(assignment.slice(eq + 1))}`);
  }
  lines.push(`exec ${exec.command.map(shellQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** One stream of a run (stdout or stderr): output up to the run's marker goes to the tail. */
export class MarkedOutput {
  readonly tail: OutputTail;
  /** Bytes after the marker (on stdout: ` <exit code>\n`). */
  after = Buffer.alloc(0);
  done = false;
  #held = Buffer.alloc(0);

  constructor(
    private readonly marker: Buffer,
    cap: number,
  ) {
    this.tail = new OutputTail(cap);
  }

  write(chunk: Buffer): void {
    if (this.done) {
      this.after = Buffer.concat([this.after, chunk]);
      return;
    }
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const at = data.indexOf(this.marker);
    if (at >= 0) {
      this.tail.write(data.subarray(0, at));
      this.done = true;
      this.after = Buffer.from(data.subarray(at + this.marker.length));
      this.#held = Buffer.alloc(0);
      return;
    }
    // A marker may straddle chunks: hold back what could be its beginning.
    const keep = Math.min(data.length, this.marker.length - 1);
    this.tail.write(data.subarray(0, data.length - keep));
    this.#held = Buffer.from(data.subarray(data.length - keep));
  }

  /** Whatever was held back, once the run ends without a marker. */
  flush(): void {
    this.tail.write(this.#held);
    this.#held = Buffer.alloc(0);
  }
}

export type AgentOutcome =
  | { kind: 'exited'; exitCode: number; output: { stdout: OutputTail; stderr: OutputTail } }
  | { kind: 'timeout'; output: { stdout: OutputTail; stderr: OutputTail } }
  | {
      kind: 'stopped';
      /** The stream had ended before this run was sent. */
      beforeStart: boolean;
      output: { stdout: OutputTail; stderr: OutputTail };
    };

interface PendingRun {
  stdout: MarkedOutput;
  stderr: MarkedOutput;
  settle(outcome: AgentOutcome): void;
}

/**
 * The executor's end of a warm container's agent: one hijacked attach stream, stdin carrying
 * one line per run, stdout and stderr demultiplexed and split at each run's random marker.
 * Output written between runs (a step's leftover background process) belongs to no run.
 */
export class AgentConnection {
  #pending: PendingRun | null = null;
  #ended = false;

  constructor(
    docker: Docker,
    private readonly stream: Duplex,
  ) {
    docker.modem.demuxStream(
      stream,
      new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          this.#pending?.stdout.write(chunk);
          this.#check();
          callback();
        },
      }),
      new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          this.#pending?.stderr.write(chunk);
          this.#check();
          callback();
        },
      }),
    );
    const end = () => {
      if (this.#ended) return;
      this.#ended = true;
      const pending = this.#pending;
      if (pending) {
        pending.stdout.flush();
        pending.stderr.flush();
        pending.settle({ kind: 'stopped', beforeStart: false, output: outputOf(pending) });
      }
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  run(script: string, capBytes: number, timeoutMs: number): Promise<AgentOutcome> {
    const marker = `__campaigns_run_${randomBytes(16).toString('hex')}__`;
    const markerBytes = Buffer.from(marker, 'latin1');
    const stdout = new MarkedOutput(markerBytes, capBytes);
    const stderr = new MarkedOutput(markerBytes, capBytes);
    if (this.#ended) {
      return Promise.resolve({
        kind: 'stopped',
        beforeStart: true,
        output: outputOf({ stdout, stderr }),
      });
    }
    return new Promise<AgentOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending = null;
        stdout.flush();
        stderr.flush();
        resolve({ kind: 'timeout', output: outputOf({ stdout, stderr }) });
      }, timeoutMs);
      this.#pending = {
        stdout,
        stderr,
        settle: (outcome) => {
          clearTimeout(timer);
          this.#pending = null;
          resolve(outcome);
        },
      };
      this.stream.write(`${script} ${marker}\n`);
    });
  }

  /** Settles the pending run once both streams passed its marker and the exit code is complete. */
  #check(): void {
    const pending = this.#pending;
    if (!pending?.stdout.done || !pending.stderr.done) return;
    const line = pending.stdout.after.toString('latin1');
    const newline = line.indexOf('\n');
    if (newline < 0) return;
    const exitCode = Number(line.slice(0, newline).trim());
    pending.settle({
      kind: 'exited',
      exitCode: Number.isInteger(exitCode) ? exitCode : 255,
      output: outputOf(pending),
    });
  }
}

function outputOf(run: { stdout: MarkedOutput; stderr: MarkedOutput }) {
  return { stdout: run.stdout.tail, stderr: run.stderr.tail };
}
