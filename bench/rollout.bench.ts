// npm run bench:rollout (M1 item 1): publishes 600 pull requests against the simulator with
// GitHub's rate limits on, through every real part, and measures how much of GitHub's
// content-creation budget the rollout planner uses without tripping a limit.
//
// An hour of GitHub's limits would take an hour; instead the simulator's limits and the
// reconciler's rollout clock both run ROLLOUT_TIME_SCALE times as fast (default 12: GitHub's
// hour passes in five real minutes). Durations below are on that clock ("scaled minutes").
//
// Phases: `campaign apply` of hello-world with published: false (the steps run, nothing is
// published; not measured), then with published: true, until the simulator has opened every
// pull request. The baseline is GitHub's budget itself: the fastest schedule its limits admit
// for the same requests (computed), and its hourly budget.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertServicesAlive,
  cleanup,
  createBenchSystem,
  repoRoot,
  runCli,
  say,
  sleep,
  startCampaigns,
  startSimulator,
  type BenchSystem,
} from './campaign/system.js';

const PRS = Number(process.env.ROLLOUT_PRS ?? 600);
// One simulated repository in 25 has no README.md, so hello-world makes no changeset there.
const REPOS = Number(process.env.ROLLOUT_REPOS ?? Math.ceil((PRS * 25) / 24));
const SCALE = Number(process.env.ROLLOUT_TIME_SCALE ?? 12);
const PER_MINUTE = 80;
const PER_HOUR = 500;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** When the n-th of `n` content-creating requests can go at the earliest under GitHub's limits (ms). */
export function optimalScheduleMs(n: number): number {
  const times: number[] = [];
  let t = 0;
  while (times.length < n) {
    const lastMinute = times.filter((x) => x > t - MINUTE_MS).length;
    const lastHour = times.filter((x) => x > t - HOUR_MS).length;
    if (lastMinute < PER_MINUTE && lastHour < PER_HOUR) {
      times.push(t);
      continue;
    }
    // The next time one of the counted requests stops counting.
    const minuteFree = lastMinute >= PER_MINUTE ? times[times.length - lastMinute]! + MINUTE_MS : t;
    const hourFree = lastHour >= PER_HOUR ? times[times.length - lastHour]! + HOUR_MS : t;
    t = Math.max(minuteFree, hourFree, t + 1);
  }
  return times.at(-1)!;
}

interface Created {
  at: number;
}

async function main(): Promise<void> {
  const system: BenchSystem = await createBenchSystem();
  const keep = process.env.BENCH_KEEP === '1';
  try {
    say(
      `rollout: ${PRS} pull requests from ${REPOS} repositories, GitHub's limits on, clocks ${SCALE}× as fast`,
    );
    const sim = await startSimulator(system, REPOS, { limitsTimeScale: SCALE });
    await startCampaigns(system, { CAMPAIGNS_TIME_SCALE: String(SCALE) });
    const example = await readFile(join(repoRoot, 'examples', 'hello-world.campaign.yaml'), 'utf8');
    const specFile = join(system.workDir, 'hello-world.campaign.yaml');

    say('applying unpublished (the steps run; not measured)');
    await writeFile(specFile, example);
    const first = await runCli(system, [
      'apply',
      '-f',
      specFile,
      '--wait',
      '--timeout',
      '30m',
      '--json',
    ]);
    if (first.code !== 0) throw new Error(`apply exited ${first.code}\n${first.stderr}`);
    const changesets = (JSON.parse(first.stdout) as { status: { changesets: unknown[] } }).status
      .changesets.length;
    if (changesets < PRS)
      throw new Error(`${REPOS} repositories gave ${changesets} changesets, fewer than ${PRS}`);

    const core = sim.sim.core;
    const refusalsBefore = { ...core.limitRefusals };
    const seqBefore = core.requestLog.at(-1)?.seq ?? 0;
    say('applying published: true (measured until every pull request is open)');
    await writeFile(specFile, example.replace(/^(\s*published:\s*)false\s*$/m, '$1true'));
    const started = Date.now();
    const second = await runCli(system, ['apply', '-f', specFile, '--json']);
    if (second.code !== 0) throw new Error(`apply exited ${second.code}\n${second.stderr}`);

    const created = (): Created[] =>
      core.requestLog
        .filter(
          (e) =>
            e.seq > seqBefore &&
            e.method === 'POST' &&
            /^\/api\/v3\/repos\/[^/]+\/[^/]+\/pulls$/.test(e.path) &&
            e.status === 201,
        )
        .map((e) => ({ at: Date.parse(e.at) }));
    const expectedMinutes = optimalScheduleMs(PRS) / MINUTE_MS;
    const timeoutMs = ((expectedMinutes * 3 + 10) * MINUTE_MS) / SCALE;
    let lastReport = Date.now();
    for (;;) {
      const done = created().length;
      if (done >= PRS) break;
      assertServicesAlive(system);
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `only ${done} of ${PRS} pull requests opened in ${Math.round(timeoutMs / 1000)} s`,
        );
      if (Date.now() - lastReport > 15_000) {
        say(
          `${done}/${PRS} opened after ${Math.round(((Date.now() - started) * SCALE) / MINUTE_MS)} scaled minutes`,
        );
        lastReport = Date.now();
      }
      await sleep(500);
    }
    const times = created()
      .map((c) => c.at)
      .sort((a, b) => a - b);
    const lastAt = times[PRS - 1]!;
    const minutes = ((lastAt - started) * SCALE) / MINUTE_MS;
    const contentRequests = core.requestLog.filter(
      (e) => e.seq > seqBefore && e.createdContent && e.status < 400,
    ).length;
    const budgetUsed = contentRequests / ((PER_HOUR * minutes) / 60);
    const optimalMinutes = optimalScheduleMs(contentRequests) / MINUTE_MS;
    const secondary = core.limitRefusals.secondary - refusalsBefore.secondary;
    const primary = core.limitRefusals.primary - refusalsBefore.primary;

    const rows: [string, string][] = [
      ['pull requests opened', String(PRS)],
      ['content-creating requests', String(contentRequests)],
      ['time to the last (scaled minutes)', minutes.toFixed(1)],
      ['fastest GitHub admits (scaled minutes)', optimalMinutes.toFixed(1)],
      ['requests per hour ÷ 500 (budget_used)', budgetUsed.toFixed(3)],
      ['fastest ÷ time taken', (optimalMinutes / minutes).toFixed(3)],
      ['secondary limit hits', String(secondary)],
      ['primary limit hits', String(primary)],
    ];
    for (const r of core.limitRefusalLog.filter((r) => r.at >= started)) {
      // What the simulator had counted in the minute before: to tell a planner that let too
      // many through from requests it never planned (retries, other callers).
      const before = core.requestLog.filter(
        (e) =>
          e.createdContent &&
          Date.parse(e.at) <= r.at &&
          Date.parse(e.at) > r.at - MINUTE_MS / SCALE,
      );
      const paths = before.map((e) => `${e.method} ${e.path} ${e.status}`);
      const repeated = paths.filter((p, i) => paths.indexOf(p) !== i);
      say(
        `refused (${r.reason}) at ${(((r.at - started) * SCALE) / MINUTE_MS).toFixed(2)} scaled minutes: ${r.method} ${r.path}; ${before.length} content requests in the minute before${repeated.length > 0 ? `, repeated: ${repeated.slice(0, 5).join(', ')}` : ''}; statuses ${JSON.stringify(Object.fromEntries([...new Set(before.map((e) => e.status))].map((st) => [st, before.filter((e) => e.status === st).length])))}`,
      );
    }
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\n| ${'measure'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | ----: |`);
    for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v.padStart(5)} |`);
    console.log(
      JSON.stringify({
        bench: 'rollout',
        prs: PRS,
        minutes: Math.round(minutes * 10) / 10,
        budget_used: Math.round(budgetUsed * 1000) / 1000,
        secondary_limit_hits: secondary,
        primary_limit_hits: primary,
        content_requests: contentRequests,
        optimal_minutes: Math.round(optimalMinutes * 10) / 10,
        time_efficiency: Math.round((optimalMinutes / minutes) * 1000) / 1000,
        time_scale: SCALE,
      }),
    );
  } finally {
    await cleanup(system, keep);
  }
}

await main();
