// The chaos driver: runs the chaos campaign (publish, retitle, remove) once without faults — the
// reference — and once with the plan's faults, and compares what each left on the code host and
// in `campaign status`. Used by `npm run chaos` (bench/chaos.bench.ts) and chaos.e2e.spec.ts.
//
// The faulted run has PostgreSQL and NATS of its own (PrivatePostgres, PrivateNatsServer), so
// restarting them disturbs no other test; the reference runs on the shared servers. The
// simulator runs in this process: progress is read from its state, which no fault touches.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '@campaigns/events';
import { PrivateNatsServer, PrivatePostgres } from '@campaigns/events/testing';
import type { FullCampaignStatus } from '@campaigns/contracts';
import type { PullRequest } from '@campaigns/github-sim';
import { ensureStepImage } from '../../step-image.js';
import {
  SERVICE_NAMES,
  startSystem,
  type RunningSystem,
  type ServiceName,
} from '../../test-support/system.js';
import {
  CHAOS_BRANCH,
  CHAOS_CAMPAIGN,
  chaosSpecText,
  phaseProgress,
  type PullProgressView,
} from '../chaos-campaign.js';
import {
  compareRuns,
  type ChaosComparison,
  type PullRecord,
  type RunRecord,
} from '../chaos-comparison.js';
import {
  CHAOS_PHASES,
  describeFault,
  selectedSampleRepos,
  type ChaosFault,
  type ChaosPhase,
  type ChaosPlan,
} from '../chaos-plan.js';

export interface ChaosRunSettings {
  repos: number;
  replicas: Record<ServiceName, number>;
  /** Longest a phase may take to show on the code host. */
  phaseTimeoutMs: number;
  /** Longest the end state may take after the last phase. */
  convergeTimeoutMs: number;
  /** Longest every process may take to answer ready again after a fault. */
  recoverTimeoutMs: number;
  say(line: string): void;
  /** Where to write every process's output at the end (evidence); nothing written when absent. */
  logDir?: string;
  /**
   * Carry on with the next fault when processes did not answer ready after one (an incident),
   * instead of ending the run: a diagnostic, to see what else breaks behind a readiness bug.
   */
  keepGoing?: boolean;
}

/** A fault as it was carried out. */
export interface FaultRecord {
  fault: ChaosFault;
  /** Seconds after the first apply when it began. */
  atS: number;
  /** The phase's progress on the code host when it began. */
  progress: number;
  /** The killed process. */
  pid?: number;
  /** Seconds from the fault's start until every process answered ready; null: not in time. */
  recoveredS: number | null;
  /** The readiness answers when the driver stopped waiting (only when not recovered). */
  notReady?: Record<string, number[]>;
}

export interface RunOutcome {
  record: RunRecord;
  /** The end state was reached: every phase shown on the code host, status complete. */
  settled: boolean;
  /** Seconds from the first apply until settled (or until the driver gave up). */
  runS: number;
  phaseS: Partial<Record<ChaosPhase, number>>;
  /** What went wrong on the way (failed applies, timeouts), for the report. */
  incidents: string[];
}

export interface ChaosOutcome extends RunOutcome {
  faults: FaultRecord[];
  comparison: ChaosComparison;
  /** Seconds from the recovery of the last fault until the run matched the reference; null: never. */
  convergeS: number | null;
  api: { calls: number; errors5xx: number; rateLimited: number; truncated: boolean };
}

const POLL_MS = 250;
const SETTLE_POLL_MS = 5_000;

/** Runs the campaign without any fault and records its end state. */
export async function runReference(
  plan: ChaosPlan,
  settings: ChaosRunSettings,
): Promise<RunOutcome> {
  await ensureStepImage();
  settings.say(`reference: starting a fault-free system with ${settings.repos} repositories`);
  const system = await startSystem({ repos: settings.repos, replicas: settings.replicas });
  try {
    // The reference is fault-free: no rate limits for the bot either.
    await system.env.sim.control.call('setTokenLimits', {
      token: system.env.token,
      limits: {
        disabled: true,
        contentPerMinute: Number.MAX_SAFE_INTEGER,
        contentPerHour: Number.MAX_SAFE_INTEGER,
        concurrency: Number.MAX_SAFE_INTEGER,
      },
    });
    const driver = new CampaignDriver(system, plan, settings, 'reference');
    try {
      const outcome = await driver.run(async () => undefined);
      return { ...outcome, record: await driver.record(true) };
    } finally {
      await driver.saveLogs();
    }
  } finally {
    await system.stop();
  }
}

/** Runs the campaign with the plan's faults and compares its end state with `reference`. */
export async function runChaos(
  plan: ChaosPlan,
  reference: RunRecord,
  settings: ChaosRunSettings,
): Promise<ChaosOutcome> {
  await ensureStepImage();
  settings.say('chaos: starting PostgreSQL and NATS of its own');
  const postgres = await PrivatePostgres.start();
  const nats = await PrivateNatsServer.start();
  let system: RunningSystem | undefined;
  let driver: CampaignDriver | undefined;
  try {
    settings.say(`chaos: starting the system with ${settings.repos} repositories`);
    system = await startSystem({
      repos: settings.repos,
      replicas: settings.replicas,
      postgresAdminUrl: postgres.url(),
      natsUrl: nats.url,
    });
    const { sim } = system.env;
    await sim.control.call('configureFaults', {
      seed: plan.sim.seed,
      errorRate: plan.sim.errorRate,
      errorStatuses: plan.sim.errorStatuses,
      latency: { kind: 'fixed', ms: plan.sim.latencyMs },
    });
    await sim.control.call('setTokenLimits', {
      token: system.env.token,
      limits: {
        // Primary limits high: a primary reset is up to an hour away, and not what this tests.
        core: 1_000_000,
        graphql: 1_000_000,
        concurrency: plan.sim.concurrency,
        contentPerMinute: plan.sim.contentPerMinute,
        // The hour's budget is not what this run is about: a stall of an hour would end it.
        contentPerHour: Math.max(500, settings.repos * 10),
        secondaryRetryAfterSeconds: plan.sim.retryAfterSeconds,
      },
    });
    const logStart = sim.core.requestLog.at(-1)?.seq ?? 0;

    const chaos = new CampaignDriver(system, plan, settings, 'chaos');
    driver = chaos;
    const faults: FaultRecord[] = [];
    const pending = [...plan.faults];
    let lastRecoveryAt = 0;
    const outcome = await chaos.run(async (phase, progress) => {
      for (;;) {
        const fault = pending[0];
        if (!fault || fault.at.phase !== phase || progress() < fault.at.progress) return;
        pending.shift();
        const started = performance.now();
        const record: FaultRecord = {
          fault,
          atS: chaos.elapsedS(),
          progress: progress(),
          recoveredS: null,
        };
        settings.say(
          `chaos: fault ${faults.length + 1}/${plan.faults.length} at ${phase} ${(record.progress * 100).toFixed(0)} %: ${describeFault(fault)}`,
        );
        faults.push(record);
        await carryOut(fault, record, system!, postgres, nats);
        const ready = await allReady(system!, settings.recoverTimeoutMs);
        if (!ready.ok) {
          record.notReady = ready.last;
          const why = `after "${describeFault(fault)}" not every process was ready in ${settings.recoverTimeoutMs / 1000} s: ${(await readinessReasons(system!)).join('; ')}`;
          // Going on would stack faults on a system that has not recovered from this one.
          if (!settings.keepGoing) throw new Error(why);
          chaos.incident(why);
        } else {
          record.recoveredS = round((performance.now() - started) / 1000);
        }
        lastRecoveryAt = performance.now();
      }
    });
    if (pending.length > 0) chaos.incident(`${pending.length} planned faults not carried out`);

    // The end state may trail the last phase (status, closing, archiving): wait for it to match.
    let convergedAt: number | null = null;
    let comparison: ChaosComparison | null = null;
    if (outcome.settled) {
      const deadline = performance.now() + settings.convergeTimeoutMs;
      for (;;) {
        const quick = await chaos.record(false);
        comparison = compareRuns(reference, { ...quick, deadLetters: 0, auditClean: true });
        if (comparison.converged) {
          convergedAt = performance.now();
          break;
        }
        if (performance.now() > deadline) break;
        await sleep(SETTLE_POLL_MS);
      }
    }
    const record = await chaos.record(true);
    comparison = compareRuns(reference, record);
    const converged = comparison.converged && convergedAt !== null;
    const log = sim.core.requestLog.filter(
      (e) => e.seq > logStart && e.token === system!.env.token && e.kind !== 'git',
    );
    return {
      ...outcome,
      record,
      faults,
      comparison: { ...comparison, converged },
      convergeS:
        converged && convergedAt !== null
          ? round((convergedAt - (lastRecoveryAt || chaos.startedAt)) / 1000)
          : null,
      api: {
        calls: log.length,
        errors5xx: log.filter((e) => e.status >= 500).length,
        rateLimited: log.filter((e) => e.status === 403 || e.status === 429).length,
        truncated: (sim.core.requestLog[0]?.seq ?? 0) > logStart + 1,
      },
    };
  } finally {
    await driver?.saveLogs();
    await system?.stop().catch((error: Error) => settings.say(`chaos: stop: ${error.message}`));
    await nats.destroy();
    postgres.destroy();
  }
}

async function carryOut(
  fault: ChaosFault,
  record: FaultRecord,
  system: RunningSystem,
  postgres: PrivatePostgres,
  nats: PrivateNatsServer,
): Promise<void> {
  switch (fault.kind) {
    case 'kill': {
      const service = fault.service as ServiceName;
      const count = system.processes(service).length;
      const { pid, port } = await system.killOne(service, Math.min(fault.process, count - 1));
      record.pid = pid;
      await sleep(fault.downMs);
      await system.start(service, { port });
      return;
    }
    case 'restart-nats':
      await nats.stop();
      await sleep(fault.downMs);
      await nats.restart();
      return;
    case 'restart-postgres':
      postgres.stop();
      await sleep(fault.downMs);
      await postgres.restart();
      return;
  }
}

async function allReady(
  system: RunningSystem,
  timeoutMs: number,
): Promise<{ ok: boolean; last: Record<string, number[]> }> {
  const deadline = performance.now() + timeoutMs;
  let last: Record<string, number[]> = {};
  for (;;) {
    const answers = await Promise.all(SERVICE_NAMES.map((name) => system.readiness(name)));
    last = Object.fromEntries(SERVICE_NAMES.map((name, i) => [name, answers[i]!]));
    if (answers.flat().every((status) => status === 200)) return { ok: true, last };
    if (performance.now() > deadline) return { ok: false, last };
    await sleep(200);
  }
}

/** What each running process's `/readyz` says, for the processes that are not ready. */
async function readinessReasons(system: RunningSystem): Promise<string[]> {
  const alive = system
    .history()
    .filter(({ proc }) => proc.child.exitCode === null && proc.child.signalCode === null);
  const reasons = await Promise.all(
    alive.map(async ({ name, port, proc }) => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`, {
          signal: AbortSignal.timeout(5_000),
        });
        if (response.ok) return null;
        return `${name} (pid ${proc.child.pid}) ${response.status} ${await response.text()}`;
      } catch (error) {
        return `${name} (pid ${proc.child.pid}) no answer: ${(error as Error).message}`;
      }
    }),
  );
  return reasons.filter((r): r is string => r !== null);
}

/** One run of the campaign on one system: applies each phase and follows it on the code host. */
class CampaignDriver {
  readonly startedAt = performance.now();
  private readonly repos: string[];
  private readonly incidents: string[] = [];

  constructor(
    private readonly system: RunningSystem,
    private readonly plan: ChaosPlan,
    private readonly settings: ChaosRunSettings,
    private readonly label: string,
  ) {
    this.repos = selectedSampleRepos(settings.repos);
    const { sim, org } = system.env;
    const eligible = sim.state
      .listRepositories()
      .filter((r) => r.owner === org && !r.archived && !r.fork)
      .map((r) => r.name)
      .sort();
    if (eligible.join() !== this.repos.join()) {
      throw new Error(
        `the simulator's sample repositories are not the ones the chaos plan assumes (${eligible.length} eligible, ${this.repos.length} assumed): selectedSampleRepos needs updating`,
      );
    }
  }

  elapsedS(): number {
    return round((performance.now() - this.startedAt) / 1000);
  }

  incident(line: string): void {
    this.incidents.push(line);
    this.settings.say(`${this.label}: ${line}`);
  }

  /**
   * Applies each phase and waits until the code host shows it done, calling `during` with the
   * phase and a progress reader at every poll; then waits until `campaign status` is complete.
   */
  async run(
    during: (phase: ChaosPhase, progress: () => number) => Promise<void>,
  ): Promise<Omit<RunOutcome, 'record'>> {
    const phaseS: Partial<Record<ChaosPhase, number>> = {};
    const outcome = (settled: boolean) => ({
      settled,
      runS: this.elapsedS(),
      phaseS,
      incidents: this.incidents,
    });
    for (const phase of CHAOS_PHASES) {
      const started = performance.now();
      const deadline = started + this.settings.phaseTimeoutMs;
      if (!(await this.apply(phase, deadline))) return outcome(false);
      const progress = () => this.progress(phase);
      let lastSaid = performance.now();
      for (;;) {
        if (!(await this.during(during, phase, progress))) return outcome(false);
        if (progress() >= 1) break;
        if (performance.now() > deadline) {
          this.incident(
            `${phase} not shown on the code host in ${this.settings.phaseTimeoutMs / 1000} s (${(progress() * 100).toFixed(0)} %)`,
          );
          return outcome(false);
        }
        if (performance.now() - lastSaid > 15_000) {
          this.settings.say(`${this.label}: ${phase} ${(progress() * 100).toFixed(0)} %`);
          lastSaid = performance.now();
        }
        await sleep(POLL_MS);
      }
      // Faults due at the end of the phase still happen in it.
      if (!(await this.during(during, phase, progress))) return outcome(false);
      phaseS[phase] = round((performance.now() - started) / 1000);
      this.settings.say(`${this.label}: ${phase} shown on the code host after ${phaseS[phase]} s`);
    }
    const deadline = performance.now() + this.settings.convergeTimeoutMs;
    for (;;) {
      const status = await this.status();
      if (status?.phase === 'complete' && status.changesets.every((c) => c.converged)) {
        return outcome(true);
      }
      if (performance.now() > deadline) {
        this.incident(
          `campaign status not complete in ${this.settings.convergeTimeoutMs / 1000} s (phase ${status?.phase ?? 'unknown'})`,
        );
        return outcome(false);
      }
      await sleep(SETTLE_POLL_MS);
    }
  }

  /** Calls `during`; a fault that could not be carried out ends the run (false), as an incident. */
  private async during(
    during: (phase: ChaosPhase, progress: () => number) => Promise<void>,
    phase: ChaosPhase,
    progress: () => number,
  ): Promise<boolean> {
    try {
      await during(phase, progress);
      return true;
    } catch (error) {
      this.incident(`the run stopped: ${(error as Error).message}`);
      return false;
    }
  }

  /** `campaign apply` of the phase's spec, again until it succeeds (a user would retry too). */
  private async apply(phase: ChaosPhase, deadline: number): Promise<boolean> {
    const file = join(this.system.workDir, `${CHAOS_CAMPAIGN}-${phase}.campaign.yaml`);
    await writeFile(file, chaosSpecText(phase, this.plan.removedRepos));
    for (;;) {
      const result = await this.system.cli(['apply', '-f', file, '--json']);
      if (result.code === 0) return true;
      this.incident(
        `apply (${phase}) exited ${result.code}: ${result.stderr.trim().split('\n').slice(-2).join(' | ')}`,
      );
      if (performance.now() > deadline) return false;
      await sleep(2_000);
    }
  }

  /** The campaign's pull requests on the simulator, read from its state in this process. */
  private pulls() {
    const { sim, org } = this.system.env;
    const out: { pull: PullRequest; repo: string }[] = [];
    for (const pull of sim.state.allPullRequests()) {
      if (pull.head.ref !== CHAOS_BRANCH) continue;
      const repo = sim.state.getRepositoryById(pull.repository_id);
      if (repo?.owner === org) out.push({ pull, repo: repo.name });
    }
    return out;
  }

  private progress(phase: ChaosPhase): number {
    const views: PullProgressView[] = this.pulls().map(({ pull, repo }) => ({
      repo,
      state: pull.state,
      title: pull.title,
    }));
    return phaseProgress(phase, views, this.repos, this.plan.removedRepos);
  }

  private async status(): Promise<FullCampaignStatus | null> {
    const result = await this.system.cli(['status', CHAOS_CAMPAIGN, '--json']);
    if (result.code !== 0) return null;
    try {
      return JSON.parse(result.stdout) as FullCampaignStatus;
    } catch {
      return null;
    }
  }

  /** The end state; `full` adds the dead letters and `campaign audit --verify` (slower). */
  async record(full: boolean): Promise<RunRecord> {
    const { sim } = this.system.env;
    const pulls: PullRecord[] = [];
    for (const { pull: p, repo } of this.pulls()) {
      const repository = sim.state.getRepositoryById(p.repository_id)!;
      const path = sim.core.repositories.pathOf(repository);
      const base = p.merged ? p.base.sha : (repository.branches[p.base.ref] ?? p.base.sha);
      const files = await sim.core.store.changedFiles(path, base, p.head.sha);
      const commit = await sim.core.store.readCommit(path, p.head.sha);
      pulls.push({
        repo,
        number: p.number,
        title: p.title,
        body: p.body,
        headRef: p.head.ref,
        baseRef: p.base.ref,
        state: p.merged ? 'merged' : p.state,
        draft: p.draft,
        commitMessage: commit.message.trim(),
        diff: files
          .map((f) => `${f.status} ${f.filename} +${f.additions} -${f.deletions} ${f.sha}`)
          .sort()
          .join(', '),
      });
    }
    const status = await this.status();
    return {
      pulls,
      changesets:
        status?.changesets.map((c) => ({
          repo: c.repository.split('/').at(-1)!,
          headBranch: c.headBranch,
          state: c.state,
          converged: c.converged,
        })) ?? null,
      campaignPhase: status?.phase ?? null,
      deadLetters: full ? await this.deadLetters() : 0,
      auditClean: full ? await this.auditClean() : true,
    };
  }

  private async deadLetters(): Promise<number> {
    const pool = this.system.db.pool;
    const { rows: schemas } = await pool.query<{ schema: string }>(
      `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'dead_letters'`,
    );
    let total = 0;
    for (const { schema } of schemas) {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".dead_letters`,
      );
      total += rows[0]!.n;
    }
    return total;
  }

  private async auditClean(): Promise<boolean> {
    const result = await this.system.cli(['audit', '--verify']);
    if (result.code !== 0) {
      this.incident(
        `campaign audit --verify exited ${result.code}:\n${result.stdout}${result.stderr}`,
      );
    }
    return result.code === 0;
  }

  /** Every process's output into the log directory, one file per process. */
  async saveLogs(): Promise<void> {
    const dir = this.settings.logDir;
    if (dir === undefined) return;
    const target = join(dir, this.label);
    await mkdir(target, { recursive: true });
    const seen = new Map<string, number>();
    for (const { name, proc } of this.system.history()) {
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      await writeFile(
        join(target, `${name}-${n}-pid${proc.child.pid ?? 'unknown'}.log`),
        `${proc.stdoutLines.join('\n')}\n${proc.stderr()}`,
      );
    }
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;
