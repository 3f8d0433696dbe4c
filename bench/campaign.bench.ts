// npm run bench:campaign [-- --repos N --naive M --phases first,identical,title,step --keep]
// Campaigns end to end as a user runs it, against a naive shell loop measured in the same run.
// Starts its own GitHub simulator with N repositories (no rate limits for the bot), a fresh
// database, its own JetStream streams and the four services (one process each, the environment
// npm start gives them). First the naive loop over M repositories, sequentially and 4 at a time;
// then `campaign apply` of hello-world (published) until every pull request is open, an
// identical re-apply, a title change and a step change, each until the simulator shows it.
// Per phase: wall time, stage spans and tails from the event store, code-host requests, events
// and database bytes per changeset, peak memory per service. Prints a Markdown table, then one
// JSON line with every figure. Progress goes to stderr.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SimEnvironment } from '../tools/campaigns-system/src/index.js';
import {
  databaseBytes,
  deadLetterCount,
  diagnostics,
  eventMark,
  eventsSince,
  oldestWriteTransaction,
  RequestCounter,
  type OldTransaction,
  stageTimes,
  STAGES,
  type StageName,
  type StageTime,
} from './campaign/measure.js';
import { runNaiveLoop, type NaiveResult } from './campaign/naive.js';
import {
  assertServicesAlive,
  cleanup,
  createBenchSystem,
  repoRoot,
  RssSampler,
  runCli,
  say,
  sleep,
  startCampaigns,
  startSimulator,
  type BenchSystem,
} from './campaign/system.js';

const PHASES = ['first', 'identical', 'title', 'step'] as const;
type PhaseName = (typeof PHASES)[number];

const POLL_MS = 500;
/** The request log is read every few polls, so it never grows past its capacity unread. */
const DRAIN_EVERY_POLLS = 4;
/** An identical re-apply is counted this long after the CLI returned. */
const IDENTICAL_GRACE_MS = 3_000;
/** A phase is over once no event was appended for this long (and webhooks were delivered). */
const QUIET_MS = 3_000;
const SETTLE_MAX_MS = 120_000;

interface Options {
  repos: number;
  naive: number;
  phases: Set<PhaseName>;
  keep: boolean;
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      repos: { type: 'string', default: '1000' },
      naive: { type: 'string', default: '100' },
      phases: { type: 'string', default: PHASES.join(',') },
      keep: { type: 'boolean', default: false },
    },
  });
  const count = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const phases = values.phases.split(',').map((p) => p.trim());
  const unknown = phases.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) {
    throw new Error(`--phases: unknown ${unknown.join(', ')} (known: ${PHASES.join(', ')})`);
  }
  return {
    repos: count('repos', values.repos, 1),
    naive: count('naive', values.naive, 0),
    phases: new Set(phases as PhaseName[]),
    keep: values.keep,
  };
}

// ---- the spec --------------------------------------------------------------------------------

interface SpecShape {
  title: string;
  step: string;
}

/** examples/hello-world.campaign.yaml, published (as npm start applies it), title and step swapped in. */
class HelloWorldSpec {
  constructor(private readonly example: string) {}

  static async load(): Promise<HelloWorldSpec> {
    return new HelloWorldSpec(
      await readFile(join(repoRoot, 'examples', 'hello-world.campaign.yaml'), 'utf8'),
    );
  }

  field(pattern: RegExp): string {
    const match = pattern.exec(this.example);
    if (!match) throw new Error(`hello-world.campaign.yaml has no ${pattern}`);
    return match[2]!.trim();
  }

  get shape(): SpecShape {
    return {
      title: this.field(/^(\s*title:\s*)(.*)$/m),
      step: this.field(/^(\s*- run:\s*)(.*)$/m),
    };
  }
  get branch(): string {
    return this.field(/^(\s*branch:\s*)(.*)$/m);
  }
  get image(): string {
    return this.field(/^(\s*container:\s*)(.*)$/m);
  }
  get body(): string {
    return this.field(/^(\s*body:\s*)(.*)$/m);
  }
  get commitMessage(): string {
    return this.field(/^(\s*message:\s*)(.*)$/m);
  }

  text(shape: SpecShape): string {
    const swaps: [RegExp, string][] = [
      [/^(\s*published:\s*)false\s*$/m, 'true'],
      [/^(\s*title:\s*).*$/m, shape.title],
      [/^(\s*- run:\s*).*$/m, shape.step],
    ];
    return swaps.reduce((text, [pattern, value]) => {
      if (!pattern.test(text)) throw new Error(`the example has no ${pattern}`);
      return text.replace(pattern, (_, key: string) => `${key}${value}`);
    }, this.example);
  }
}

// ---- the simulator's view --------------------------------------------------------------------

interface Target {
  id: number;
  name: string;
  base: string;
}

/** The repositories hello-world's `file:README.md` selects: archived ones and forks are left out. */
function targetRepositories(env: SimEnvironment): Target[] {
  return env.sim.state
    .listRepositories()
    .filter((r) => r.owner === env.org && !r.archived && !r.fork)
    .map((r) => ({ id: r.id, name: r.name, base: r.default_branch }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The open pull request from `branch` in each target repository, by repository id. */
function openPulls(env: SimEnvironment, targets: Target[], branch: string) {
  const ids = new Set(targets.map((t) => t.id));
  const pulls = new Map<number, { title: string; sha: string }>();
  for (const pull of env.sim.state.allPullRequests()) {
    if (pull.state === 'open' && pull.head.ref === branch && ids.has(pull.repository_id)) {
      pulls.set(pull.repository_id, { title: pull.title, sha: pull.head.sha });
    }
  }
  return pulls;
}

function idsWhere<T>(pulls: Map<number, T>, holds: (pull: T, id: number) => boolean) {
  return new Set([...pulls].filter(([id, pull]) => holds(pull, id)).map(([id]) => id));
}

// ---- phases ----------------------------------------------------------------------------------

interface PhaseResult {
  phase: PhaseName;
  /** false: run only because a later phase needs the campaign applied. */
  measured: boolean;
  wall_s: number;
  repos_per_s: number | null;
  apply_cli_s: number;
  apply_unchanged: boolean | null;
  stages: Record<StageName, StageTime | null>;
  requests: {
    rest: number;
    graphql: number;
    git: number;
    other: number;
    total: number;
    errors: number;
    truncated: boolean;
    per_changeset: { rest: number; graphql: number; git: number; total: number };
    top_endpoints: Record<string, number>;
  };
  events: number;
  events_per_changeset: number;
  events_by_type: Record<string, number>;
  db_bytes: number;
  bytes_per_changeset: number;
  peak_rss_mib: Record<string, number>;
  /** The longest-open transaction holding an xid seen on the server while the phase ran. */
  oldest_write_transaction: OldTransaction | null;
}

class PhaseTimeout extends Error {}

interface Bench {
  system: BenchSystem;
  env: SimEnvironment;
  targets: Target[];
  spec: HelloWorldSpec;
  specFile: string;
  requests: RequestCounter;
  rss: RssSampler;
  timeoutMs: number;
  /** Longest-open write transaction seen in the current phase. */
  oldestTransaction: OldTransaction | null;
}

/** How far a phase has got: the target repositories whose pull request shows its change. */
type Progress = () => Set<number>;

async function runPhase(
  bench: Bench,
  phase: PhaseName,
  shape: SpecShape,
  progress: Progress | null,
  measured: boolean,
): Promise<PhaseResult> {
  const { system, targets } = bench;
  const pool = system.db!.pool;
  const label = measured ? phase : `${phase} (needed by the later phases, not reported)`;
  say(`phase ${label}: settling`);
  await settle(bench);
  await bench.requests.restart();
  const mark = await eventMark(pool);
  const bytesBefore = await databaseBytes(pool);
  resetSamples(bench);
  await writeFile(bench.specFile, bench.spec.text(shape));

  say(`phase ${label}: campaign apply -f ${bench.specFile}`);
  const started = performance.now();
  const cli = await runCli(system, ['apply', '-f', bench.specFile, '--json']);
  if (cli.code !== 0) {
    throw new Error(`campaign apply exited ${cli.code}:\n${cli.stdout}\n${cli.stderr}`);
  }
  const applied = parseApply(cli.stdout);
  let wallMs: number;
  if (progress === null) {
    wallMs = cli.ms;
    await sleep(IDENTICAL_GRACE_MS);
  } else {
    await waitForProgress(bench, phase, progress, mark, started);
    wallMs = performance.now() - started;
    say(`phase ${phase}: done in ${(wallMs / 1000).toFixed(1)} s; settling`);
    await settle(bench);
  }
  await bench.requests.drain();

  const byType = await eventsSince(pool, mark);
  const events = [...byType.values()].reduce((n, t) => n + t.count, 0);
  const dbBytes = (await databaseBytes(pool)) - bytesBefore;
  const n = targets.length;
  const r = bench.requests;
  if (r.truncated) say(`phase ${phase}: the request log lost entries before they were read`);
  const old = bench.oldestTransaction;
  if (old && old.seconds > 10) {
    say(
      `phase ${phase}: a transaction in ${old.database} held an xid for ${old.seconds.toFixed(0)} s (the relay waits for it): ${old.query}`,
    );
  }
  return {
    phase,
    measured,
    wall_s: round(wallMs / 1000),
    repos_per_s: progress === null ? null : round(n / (wallMs / 1000)),
    apply_cli_s: round(cli.ms / 1000),
    apply_unchanged: applied.unchanged,
    stages: stageTimes(byType),
    requests: {
      ...r.byKind,
      total: r.total,
      errors: r.errors,
      truncated: r.truncated,
      per_changeset: {
        rest: round(r.byKind.rest / n),
        graphql: round(r.byKind.graphql / n),
        git: round(r.byKind.git / n),
        total: round(r.total / n),
      },
      top_endpoints: r.topEndpoints(12),
    },
    events,
    events_per_changeset: round(events / n),
    events_by_type: Object.fromEntries([...byType].map(([type, t]) => [type, t.count])),
    db_bytes: dbBytes,
    bytes_per_changeset: Math.round(dbBytes / n),
    peak_rss_mib: bench.rss.phasePeakMib(),
    oldest_write_transaction: bench.oldestTransaction,
  };
}

function parseApply(stdout: string): { unchanged: boolean | null } {
  try {
    const result = JSON.parse(stdout) as { unchanged?: unknown };
    return { unchanged: typeof result.unchanged === 'boolean' ? result.unchanged : null };
  } catch {
    return { unchanged: null };
  }
}

/** Polls the simulator's state until every target shows the phase's change; fails after the timeout. */
async function waitForProgress(
  bench: Bench,
  phase: PhaseName,
  progress: Progress,
  mark: string,
  started: number,
): Promise<void> {
  const total = bench.targets.length;
  let polls = 0;
  let lastReport = performance.now();
  for (;;) {
    const done = progress().size;
    if (done >= total) return;
    assertServicesAlive(bench.system);
    const elapsed = performance.now() - started;
    if (elapsed > bench.timeoutMs) {
      const shown = progress();
      const missing = bench.targets.filter((t) => !shown.has(t.id)).map((t) => t.name);
      const lines = await diagnostics(bench.system.db!.pool, mark);
      throw new PhaseTimeout(
        [
          `phase ${phase} did not finish within ${bench.timeoutMs / 1000} s: ${shown.size} of ${total} pull requests show it`,
          `missing: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? `, … (${missing.length})` : ''}`,
          ...lines,
        ].join('\n'),
      );
    }
    if (performance.now() - lastReport > 10_000) {
      say(`phase ${phase}: ${done}/${total} after ${(elapsed / 1000).toFixed(0)} s`);
      lastReport = performance.now();
    }
    if (++polls % DRAIN_EVERY_POLLS === 0) await sampleServer(bench);
    await sleep(POLL_MS);
  }
}

function resetSamples(bench: Bench): void {
  bench.rss.resetPhase();
  bench.oldestTransaction = null;
}

/** Reads the request log so far and notes a long-open transaction on the database server. */
async function sampleServer(bench: Bench): Promise<void> {
  await bench.requests.drain();
  const oldest = await oldestWriteTransaction(bench.system.db!.pool);
  if (oldest && oldest.seconds > (bench.oldestTransaction?.seconds ?? 0)) {
    bench.oldestTransaction = { ...oldest, seconds: round(oldest.seconds) };
  }
}

/**
 * Waits until the webhooks are delivered and no event was appended for QUIET_MS, so a phase's
 * counts include what it caused (observations, reconciled markers) and nothing of the previous.
 */
async function settle(bench: Bench): Promise<void> {
  const deadline = performance.now() + SETTLE_MAX_MS;
  await fetch(`${bench.env.sim.url}/_control/webhooksIdle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(SETTLE_MAX_MS),
  }).catch((error: Error) => say(`webhooks not idle: ${error.message}`));
  const pool = bench.system.db!.pool;
  let mark = await eventMark(pool);
  let quietSince = performance.now();
  while (performance.now() - quietSince < QUIET_MS) {
    if (performance.now() > deadline) {
      say(`events still being appended after ${SETTLE_MAX_MS / 1000} s; going on`);
      return;
    }
    await sleep(POLL_MS);
    await sampleServer(bench);
    const now = await eventMark(pool);
    if (now !== mark) {
      mark = now;
      quietSince = performance.now();
    }
  }
}

async function runPhases(bench: Bench, selected: Set<PhaseName>): Promise<PhaseResult[]> {
  const { env, targets, spec } = bench;
  const branch = spec.branch;
  const results: PhaseResult[] = [];
  let shape = spec.shape;
  const needsCampaign = [...selected].some((p) => p !== 'first');

  if (selected.has('first') || needsCampaign) {
    const progress = () => new Set(openPulls(env, targets, branch).keys());
    results.push(await runPhase(bench, 'first', shape, progress, selected.has('first')));
  }
  if (selected.has('identical')) {
    results.push(await runPhase(bench, 'identical', shape, null, true));
  }
  if (selected.has('title')) {
    shape = { ...shape, title: `${shape.title} (retitled)` };
    const title = shape.title;
    const progress = () => idsWhere(openPulls(env, targets, branch), (p) => p.title === title);
    results.push(await runPhase(bench, 'title', shape, progress, true));
  }
  if (selected.has('step')) {
    shape = { ...shape, step: shape.step.replace(/\bHello\b/, 'Hello again') };
    const before = new Map(
      [...openPulls(env, targets, branch)].map(([id, pull]) => [id, pull.sha]),
    );
    const progress = () =>
      idsWhere(openPulls(env, targets, branch), (p, id) => before.get(id) !== p.sha);
    results.push(await runPhase(bench, 'step', shape, progress, true));
  }
  return results.filter((r) => r.measured);
}

// ---- the naive loop --------------------------------------------------------------------------

interface NaiveRun extends NaiveResult {
  requests: { rest: number; graphql: number; git: number; total: number };
}

async function runNaive(
  system: BenchSystem,
  env: SimEnvironment,
  sample: Target[],
  spec: HelloWorldSpec,
  requests: RequestCounter,
): Promise<{ sequential: NaiveRun; parallel4: NaiveRun }> {
  const workDir = join(system.workDir, 'naive');
  await mkdir(workDir, { recursive: true });
  const shape = spec.shape;
  const run = async (branch: string, workers: number): Promise<NaiveRun> => {
    say(`naive loop: ${sample.length} repositories, ${workers} at a time (branch ${branch})`);
    await requests.restart();
    const result = await runNaiveLoop({
      url: env.sim.url,
      token: env.token,
      owner: env.org,
      repos: sample,
      branch,
      workers,
      workDir,
      image: spec.image,
      step: shape.step,
      title: shape.title,
      body: spec.body,
      commitMessage: spec.commitMessage,
    });
    await requests.drain();
    say(`naive loop: ${result.reposPerSecond.toFixed(2)} repos/s`);
    const { rest, graphql, git } = requests.byKind;
    return { ...result, requests: { rest, graphql, git, total: requests.total } };
  };
  return { sequential: await run('naive-seq', 1), parallel4: await run('naive-par', 4) };
}

// ---- output ----------------------------------------------------------------------------------

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const fixed = (n: number | null | undefined, digits = 2) =>
  n === null || n === undefined ? '—' : n.toFixed(digits);

function stageCell(stage: StageTime | null): string {
  return stage === null ? '—' : `${stage.span_s.toFixed(1)} / ${stage.tail_s.toFixed(1)}`;
}

function printTable(
  options: Options,
  targets: number,
  phases: PhaseResult[],
  naive: { sequential: NaiveRun; parallel4: NaiveRun } | null,
  peakRss: Record<string, number | null>,
): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `Campaigns end to end — ${options.repos} repositories (${targets} selected by hello-world), ` +
      `${cpus().length} CPUs, node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`,
  );
  out('');
  const stageHeads = (Object.keys(STAGES) as StageName[]).map((s) => `${s} s span / tail`);
  out(
    `| phase | wall s | repos/s | ${stageHeads.join(' | ')} | REST/cs | GraphQL/cs | git/cs | events/cs | bytes/cs |`,
  );
  out(`|---|---:|---:|${stageHeads.map(() => '---:|').join('')}---:|---:|---:|---:|---:|`);
  for (const p of phases) {
    const stages = (Object.keys(STAGES) as StageName[]).map((s) => stageCell(p.stages[s]));
    const perCs = p.requests.per_changeset;
    out(
      `| ${p.phase} | ${fixed(p.wall_s, 1)} | ${fixed(p.repos_per_s)} | ${stages.join(' | ')} | ` +
        `${fixed(perCs.rest)} | ${fixed(perCs.graphql)} | ${fixed(perCs.git)} | ` +
        `${fixed(p.events_per_changeset, 1)} | ${p.bytes_per_changeset.toLocaleString('en-US')} |`,
    );
  }
  if (naive) {
    for (const [label, run] of [
      ['naive, sequential', naive.sequential],
      ['naive, 4 in parallel', naive.parallel4],
    ] as const) {
      const per = (k: number) => fixed(k / run.repos);
      out(
        `| ${label} (${run.repos} repos) | ${fixed(run.seconds, 1)} | ${fixed(run.reposPerSecond)} | ` +
          `${stageHeads.map(() => '—').join(' | ')} | ${per(run.requests.rest)} | ` +
          `${per(run.requests.graphql)} | ${per(run.requests.git)} | — | — |`,
      );
    }
  }
  out('');
  out(
    'Stage span: first to last event of the stage in the phase; tail: last event of the stage ' +
      'minus last event of the stage before (resolve: its span). /cs: per changeset.',
  );
  out('');
  const names = Object.keys(peakRss);
  out(`| peak RSS MiB | ${names.join(' | ')} |`);
  out(`|---|${names.map(() => '---:|').join('')}`);
  for (const p of phases) {
    out(`| ${p.phase} | ${names.map((n) => fixed(p.peak_rss_mib[n], 1)).join(' | ')} |`);
  }
  out(`| whole run (VmHWM) | ${names.map((n) => fixed(peakRss[n], 1)).join(' | ')} |`);
  out('');
}

function summaryJson(
  options: Options,
  targets: number,
  phases: PhaseResult[],
  naive: { sequential: NaiveRun; parallel4: NaiveRun } | null,
  peakRss: Record<string, number | null>,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const byName = new Map(phases.map((p) => [p.phase, p]));
  const first = byName.get('first');
  const ratio = (a: number | null | undefined, b: number | undefined) =>
    a === null || a === undefined || b === undefined ? null : round(a / b);
  const naiveJson = (run: NaiveRun) => ({
    repos: run.repos,
    seconds: round(run.seconds),
    repos_per_s: round(run.reposPerSecond),
    requests: run.requests,
  });
  return {
    bench: 'campaign',
    repos: options.repos,
    changesets: targets,
    first_apply_s: first?.wall_s ?? null,
    repos_per_s: first?.repos_per_s ?? null,
    naive_sequential_repos_per_s: naive ? round(naive.sequential.reposPerSecond) : null,
    naive_parallel4_repos_per_s: naive ? round(naive.parallel4.reposPerSecond) : null,
    ratio_vs_sequential: ratio(first?.repos_per_s, naive?.sequential.reposPerSecond),
    ratio_vs_parallel4: ratio(first?.repos_per_s, naive?.parallel4.reposPerSecond),
    title_reapply_s: byName.get('title')?.wall_s ?? null,
    step_reapply_s: byName.get('step')?.wall_s ?? null,
    identical_reapply_s: byName.get('identical')?.wall_s ?? null,
    identical_reapply_requests: byName.get('identical')?.requests.total ?? null,
    identical_reapply_events: byName.get('identical')?.events ?? null,
    requests_per_changeset: first?.requests.per_changeset.total ?? null,
    rest_requests_per_changeset: first?.requests.per_changeset.rest ?? null,
    graphql_requests_per_changeset: first?.requests.per_changeset.graphql ?? null,
    git_requests_per_changeset: first?.requests.per_changeset.git ?? null,
    render_tail_s: first?.stages.render?.tail_s ?? null,
    publish_tail_s: first?.stages.publish?.tail_s ?? null,
    events_per_changeset: first?.events_per_changeset ?? null,
    bytes_per_changeset: first?.bytes_per_changeset ?? null,
    peak_rss_mib: peakRss,
    naive: naive
      ? { sequential: naiveJson(naive.sequential), parallel4: naiveJson(naive.parallel4) }
      : null,
    phases: Object.fromEntries(phases.map((p) => [p.phase, p])),
    ...extra,
    cpus: cpus().length,
    node: process.version,
  };
}

// ---- main ------------------------------------------------------------------------------------

async function main(options: Options, system: BenchSystem): Promise<void> {
  const spec = await HelloWorldSpec.load();
  say(`starting the simulator with ${options.repos} repositories`);
  const env = await startSimulator(system, options.repos);
  const targets = targetRepositories(env);
  const requests = new RequestCounter(env.sim.control);

  let naive: { sequential: NaiveRun; parallel4: NaiveRun } | null = null;
  if (options.naive > 0) {
    naive = await runNaive(system, env, targets.slice(0, options.naive), spec, requests);
  }

  say('starting the four services');
  await startCampaigns(system);
  const rss = new RssSampler(system);
  const bench: Bench = {
    system,
    env,
    targets,
    spec,
    specFile: join(system.workDir, 'hello-world.campaign.yaml'),
    requests,
    rss,
    timeoutMs: Math.max(300_000, options.repos * 500),
    oldestTransaction: null,
  };
  const phases = await runPhases(bench, options.phases);
  const peakRss = rss.highWaterMib();
  rss.stop();
  const deadLetters = await deadLetterCount(system.db!.pool);
  const logLevels = Object.fromEntries(system.services.map((s) => [s.name, s.levels]));
  for (const service of system.services) {
    for (const [message, count] of [...service.messages].sort((a, b) => b[1] - a[1]).slice(0, 5)) {
      say(`${service.name} logged ×${count} ${message}`);
    }
  }

  printTable(options, targets.length, phases, naive, peakRss);
  const summary = summaryJson(options, targets.length, phases, naive, peakRss, {
    dead_letters: deadLetters,
    service_log_levels: logLevels,
  });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

const options = readOptions(process.argv.slice(2));
const system = await createBenchSystem();
let cleaning: Promise<void> | undefined;
let interrupted = false;
const cleanUp = () => (cleaning ??= cleanup(system, options.keep));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    say(`${signal}: stopping`);
    interrupted = true;
    void cleanUp().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  await main(options, system);
} catch (error) {
  exitCode = 1;
  // After Ctrl-C whatever was running fails because its processes are gone: no news.
  if (interrupted) await new Promise(() => undefined);
  say(error instanceof PhaseTimeout ? error.message : String((error as Error).stack ?? error));
  for (const service of system.services) {
    const tail = service.tail.length === 0 ? ['(nothing)'] : service.tail;
    say(`${service.name}: last lines (${service.logFile}):\n  ${tail.join('\n  ')}`);
  }
} finally {
  await cleanUp();
}
process.exit(exitCode);
