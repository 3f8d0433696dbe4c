// npm run chaos [-- --seed N --repos 200 --kills 20 --min-kills 3 --removed 5 --log-dir DIR
//                  --skip-restarts --keep-going --recover-s 120]
// R1 item 4: a campaign over N repositories — publish, then a title change, then five
// repositories removed — first without faults (the reference), then again while the driver, from
// the seed it prints, kill -9s a random process of a random service at 20 moments (every service
// at least three times) and restarts it, restarts NATS and PostgreSQL once each, and has the
// simulator answer 10 % of API calls with a 5xx, add 200 ms to each and trip secondary rate
// limits (80 content-creating calls a minute, 16 in flight). The same seed draws the same faults
// at the same points of the campaign, the same removed repositories and the same simulator
// faults. How moments are drawn: tools/campaigns-system/src/chaos/chaos-plan.ts. --skip-restarts
// leaves the NATS and PostgreSQL restarts out (same seed, same other faults): a diagnostic run
// for the other faults, not the acceptance run. --keep-going carries on with the next fault when
// processes did not answer ready after one (by default that ends the run, unconverged);
// --recover-s is how long they may take.
//
// Prints the plan, a table of the faults as carried out and of both runs' outcomes, then ONE
// JSON line (`mode` and `not_ready_after` after the issue's keys say how to read it); exits 0 only
// for a full run that carried out every fault, had every process ready again after each, and
// converged to the reference. Progress goes to stderr.
import { randomInt } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  describeFault,
  planChaos,
  selectedSampleRepos,
  type ChaosPlan,
} from '../tools/campaigns-system/src/chaos/chaos-plan.js';
import {
  runChaos,
  runReference,
  type ChaosOutcome,
  type ChaosRunSettings,
  type RunOutcome,
} from '../tools/campaigns-system/src/chaos/test-support/chaos-run.js';

interface Options {
  seed: number;
  repos: number;
  kills: number;
  minKills: number;
  removed: number;
  logDir: string | undefined;
  skipRestarts: boolean;
  keepGoing: boolean;
  recoverS: number;
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      repos: { type: 'string', default: '200' },
      kills: { type: 'string', default: '20' },
      'min-kills': { type: 'string', default: '3' },
      removed: { type: 'string', default: '5' },
      'log-dir': { type: 'string' },
      'skip-restarts': { type: 'boolean', default: false },
      'keep-going': { type: 'boolean', default: false },
      'recover-s': { type: 'string', default: '120' },
    },
  });
  const count = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  return {
    seed: values.seed === undefined ? randomInt(1, 2 ** 31 - 1) : count('seed', values.seed, 0),
    repos: count('repos', values.repos, 2),
    kills: count('kills', values.kills, 0),
    minKills: count('min-kills', values['min-kills'], 0),
    removed: count('removed', values.removed, 0),
    logDir: values['log-dir'],
    skipRestarts: values['skip-restarts'],
    keepGoing: values['keep-going'],
    recoverS: count('recover-s', values['recover-s'], 1),
  };
}

const say = (line: string) => process.stderr.write(`chaos │ ${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);
const fixed = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined ? '—' : n.toFixed(digits);

const REPLICAS = {
  'spec-service': 1,
  'executor-service': 2,
  'reconciler-service': 2,
  'webhook-gateway': 1,
};

function printPlan(plan: ChaosPlan, options: Options): void {
  out(
    `Chaos run — seed ${plan.seed}, ${options.repos} repositories ` +
      `(${selectedSampleRepos(options.repos).length} selected by the campaign), ${cpus().length} CPUs, ` +
      `node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`,
  );
  out(
    `Simulator: ${plan.sim.errorRate * 100} % of API calls → ${plan.sim.errorStatuses.join('/')}, ` +
      `+${plan.sim.latencyMs} ms each, bot limited to ${plan.sim.contentPerMinute} content-creating ` +
      `calls a minute and ${plan.sim.concurrency} in flight (retry-after ${plan.sim.retryAfterSeconds} s), fault seed ${plan.sim.seed}`,
  );
  out(`Removed in the last phase: ${plan.removedRepos.join(', ')}`);
  out();
}

function printRuns(plan: ChaosPlan, reference: RunOutcome, chaos: ChaosOutcome | null): void {
  out('| # | planned at | fault | began s | progress then | pid | ready again after s |');
  out('|---:|---|---|---:|---:|---:|---:|');
  plan.faults.forEach((fault, i) => {
    const done = chaos?.faults[i];
    out(
      `| ${i + 1} | ${fault.at.phase} ${(fault.at.progress * 100).toFixed(0)} % | ${describeFault(fault)} | ` +
        `${fixed(done?.atS)} | ${done ? `${(done.progress * 100).toFixed(0)} %` : 'not done'} | ` +
        `${done?.pid ?? '—'} | ${done ? (done.recoveredS === null ? 'not ready in time' : fixed(done.recoveredS)) : '—'} |`,
    );
  });
  out();
  const runs = chaos ? [reference, chaos] : [reference];
  const open = (r: RunOutcome) => r.record.pulls.filter((p) => p.state === 'open').length;
  const closed = (r: RunOutcome) => r.record.pulls.filter((p) => p.state !== 'open').length;
  const rows: [string, (r: RunOutcome) => string][] = [
    ['run s (first apply → status complete)', (r) => fixed(r.runS)],
    [
      'publish / retitle / remove s',
      (r) => `${fixed(r.phaseS.publish)} / ${fixed(r.phaseS.retitle)} / ${fixed(r.phaseS.remove)}`,
    ],
    ['pull requests open / closed', (r) => `${open(r)} / ${closed(r)}`],
    ['changesets in status', (r) => String(r.record.changesets?.length ?? '—')],
    ['campaign phase', (r) => r.record.campaignPhase ?? '—'],
    ['dead letters', (r) => String(r.record.deadLetters)],
    ['audit --verify', (r) => (r.record.auditClean ? 'clean' : 'problems')],
  ];
  out(`| | reference | ${chaos ? 'chaos |' : ''}`);
  out(`|---|---:|${chaos ? '---:|' : ''}`);
  for (const [label, value] of rows) out(`| ${label} | ${runs.map(value).join(' | ')} |`);
  if (chaos) {
    out(
      `| API calls / 5xx / secondary-limited | — | ${chaos.api.calls} / ${chaos.api.errors5xx} / ${chaos.api.rateLimited}${chaos.api.truncated ? ' (log truncated)' : ''} |`,
    );
    out(
      `| duplicate PRs / lost changesets | — | ${chaos.comparison.duplicatePrs} / ${chaos.comparison.lostChangesets} |`,
    );
    out(
      `| converged (s after the last fault) | — | ${chaos.comparison.converged ? `yes (${fixed(chaos.convergeS)})` : 'NO'} |`,
    );
  }
  out();
  const incidents = [
    ...reference.incidents.map((i) => `reference: ${i}`),
    ...(chaos?.incidents ?? []).map((i) => `chaos: ${i}`),
  ];
  if (incidents.length > 0) {
    out('Incidents:');
    for (const line of incidents) out(`- ${line}`);
    out();
  }
  if (chaos && chaos.comparison.differenceCount > 0) {
    // A run that stopped early differs in every phase it never applied: the first few say enough.
    const shown = chaos.settled
      ? chaos.comparison.differences
      : chaos.comparison.differences.slice(0, 5);
    out(
      `Differences from the reference (${chaos.comparison.differenceCount}${chaos.settled ? '' : `, the run stopped early; the first ${shown.length}`}):`,
    );
    for (const line of shown) out(`- ${line}`);
    out();
  }
}

async function main(options: Options): Promise<number> {
  say(`seed ${options.seed} (npm run chaos -- --seed ${options.seed} reproduces this run)`);
  const plan = planChaos({
    seed: options.seed,
    repos: options.repos,
    removed: options.removed,
    kills: options.kills,
    minKillsPerService: options.minKills,
    replicas: REPLICAS,
    dependencyRestarts: !options.skipRestarts,
    sim: {
      errorRate: 0.1,
      errorStatuses: [500, 502, 503],
      latencyMs: 200,
      concurrency: 16,
      contentPerMinute: 80,
      retryAfterSeconds: 5,
    },
  });
  const logDir =
    options.logDir ?? (await mkdtemp(join(tmpdir(), `campaigns-chaos-${options.seed}-`)));
  say(`service logs go to ${logDir}`);
  const settings: ChaosRunSettings = {
    repos: options.repos,
    replicas: REPLICAS,
    phaseTimeoutMs: 20 * 60_000,
    convergeTimeoutMs: 10 * 60_000,
    recoverTimeoutMs: options.recoverS * 1000,
    say,
    logDir,
    keepGoing: options.keepGoing,
  };
  printPlan(plan, options);
  const reference = await runReference(plan, settings);
  if (!reference.settled || !reference.record.auditClean) {
    printRuns(plan, reference, null);
    say('the fault-free reference run did not complete cleanly: nothing to compare with');
    return 1;
  }
  const chaos = await runChaos(plan, reference.record, settings);
  printRuns(plan, reference, chaos);
  const notReadyAfter = chaos.faults.filter((f) => f.recoveredS === null).length;
  const mode = options.skipRestarts ? 'skip-restarts' : options.keepGoing ? 'keep-going' : 'full';
  const summary = {
    bench: 'chaos',
    seed: plan.seed,
    faults: chaos.faults.length,
    duplicate_prs: chaos.comparison.duplicatePrs,
    lost_changesets: chaos.comparison.lostChangesets,
    dead_letters: chaos.record.deadLetters,
    converged: chaos.comparison.converged,
    converge_s: chaos.convergeS,
    mode,
    not_ready_after: notReadyAfter,
    repos: options.repos,
    kills: chaos.faults.filter((f) => f.fault.kind === 'kill').length,
    dependency_restarts: chaos.faults.filter((f) => f.fault.kind !== 'kill').length,
    api_calls: chaos.api.calls,
    api_5xx: chaos.api.errors5xx,
    secondary_limited: chaos.api.rateLimited,
    audit_clean: chaos.record.auditClean,
    differences: chaos.comparison.differenceCount,
    run_s: chaos.runS,
    reference_s: reference.runS,
    log_dir: logDir,
  };
  out(JSON.stringify(summary));
  // Only a full run can pass: every fault carried out, every process ready again after each.
  const passed =
    mode === 'full' &&
    chaos.comparison.converged &&
    notReadyAfter === 0 &&
    chaos.faults.length === plan.faults.length;
  return passed ? 0 : 1;
}

let exitCode = 1;
try {
  exitCode = await main(readOptions(process.argv.slice(2)));
} catch (error) {
  say(String((error as Error).stack ?? error));
}
process.exit(exitCode);
