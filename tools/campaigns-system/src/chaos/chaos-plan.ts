// What a chaos run will do, drawn from one seed before anything starts, so a seed reproduces its
// run: which process of which service is killed, when NATS and PostgreSQL restart, how long each
// stays down, which repositories the last phase removes, and the seed of the simulator's faults.
//
// "When" is a moment of the campaign, not a wall-clock offset: a phase (publish, retitle,
// remove) and how far along it is by what the code host shows (the share of pull requests that
// are open / carry the new title / are closed). Faulted runs last minutes longer than fault-free
// ones and by different amounts, so offsets in seconds would land in different places on every
// run; a progress point lands at the same place in the work. Moments are drawn uniformly over the
// whole run, each phase taking the share of it below (about its share of a faulted run's length),
// and carried out in order, one at a time: the next fault waits until the system answered ready
// again after the last (a kill is followed by a restart of the same service on the same port).
import { randomInt, seededRandom, shuffled } from './seeded-random.js';

export const CHAOS_PHASES = ['publish', 'retitle', 'remove'] as const;
export type ChaosPhase = (typeof CHAOS_PHASES)[number];

/** Each phase's share of the moments. */
export const PHASE_SHARES: Readonly<Record<ChaosPhase, number>> = {
  publish: 0.5,
  retitle: 0.3,
  remove: 0.2,
};

/** A point in the campaign: the phase, and the share of its work done on the code host (0..1). */
export interface Moment {
  phase: ChaosPhase;
  progress: number;
}

export type ChaosFault =
  | {
      kind: 'kill';
      service: string;
      /** Index into the service's running processes at that moment. */
      process: number;
      at: Moment;
      /** How long the service stays a process short before its replacement starts. */
      downMs: number;
    }
  | { kind: 'restart-nats' | 'restart-postgres'; at: Moment; downMs: number };

/** What the simulator does to the bot's API calls for the whole faulted run. */
export interface SimFaultSettings {
  /** Seed of the simulator's own fault streams (drawn from the run's seed). */
  seed: number;
  /** Share of REST and GraphQL calls answered with a 5xx. */
  errorRate: number;
  errorStatuses: number[];
  /** Added to every API call. */
  latencyMs: number;
  /** Secondary limits of the bot's token: requests in flight, content-creating calls a minute. */
  concurrency: number;
  contentPerMinute: number;
  /** What a secondary-limit answer says in `retry-after`. */
  retryAfterSeconds: number;
}

export interface ChaosPlanOptions {
  seed: number;
  /** Sample repositories of the simulator; the last phase removes `removed` of those selected. */
  repos: number;
  removed: number;
  kills: number;
  minKillsPerService: number;
  /** Processes each service runs; the services are the keys, in a stable order. */
  replicas: Readonly<Record<string, number>>;
  /**
   * false leaves out the NATS and PostgreSQL restarts (everything else is drawn as with them):
   * for looking at the other faults while a restart is known to break the system.
   */
  dependencyRestarts?: boolean;
  sim: Omit<SimFaultSettings, 'seed'>;
}

export interface ChaosPlan {
  seed: number;
  /** In the order they are carried out. */
  faults: ChaosFault[];
  /** Names of the repositories the last phase drops from the spec, sorted. */
  removedRepos: string[];
  sim: SimFaultSettings;
}

const KILL_DOWN_MS: [number, number] = [0, 2_000];
const DEPENDENCY_DOWN_MS: [number, number] = [1_000, 5_000];

/** The simulator's name for its nth sample repository (1-based). */
export function sampleRepoName(n: number): string {
  return `repo-${String(n).padStart(5, '0')}`;
}

/**
 * The sample repositories the campaign's `file:README.md` selects: the simulator's seeder makes
 * every 50th an archived repository and every 40th a fork, which a query leaves out (192 of 200).
 * The driver checks this against the simulator it starts.
 */
export function selectedSampleRepos(count: number): string[] {
  return Array.from({ length: count }, (_, i) => i)
    .filter((i) => i % 50 !== 49 && i % 40 !== 39)
    .map((i) => sampleRepoName(i + 1));
}

export function planChaos(options: ChaosPlanOptions): ChaosPlan {
  const services = Object.keys(options.replicas);
  if (services.length === 0) throw new Error('planChaos: no services to kill');
  if (options.kills < services.length * options.minKillsPerService) {
    throw new Error(
      `planChaos: ${options.kills} kills cannot kill each of ${services.length} services ${options.minKillsPerService} times`,
    );
  }
  const selected = selectedSampleRepos(options.repos);
  if (options.removed >= selected.length) {
    throw new Error(
      `planChaos: cannot remove ${options.removed} of ${selected.length} selected repositories`,
    );
  }
  for (const [service, n] of Object.entries(options.replicas)) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`planChaos: ${service} needs a process`);
  }
  // Separate streams, so changing one knob (say, the number of kills) leaves the others' draws.
  const victims = seededRandom(options.seed ^ 0x6b696c6c);
  const moments = seededRandom(options.seed ^ 0x6d6f6d74);
  const downtimes = seededRandom(options.seed ^ 0x646f776e);
  const repos = seededRandom(options.seed ^ 0x7265706f);
  const sim = seededRandom(options.seed ^ 0x73696d21);

  const killed = [
    ...services.flatMap((s) => Array<string>(options.minKillsPerService).fill(s)),
    ...Array.from(
      { length: options.kills - services.length * options.minKillsPerService },
      () => services[Math.floor(victims() * services.length)]!,
    ),
  ];
  const order = shuffled(victims, killed);
  const kills: ChaosFault[] = order.map((service) => ({
    kind: 'kill',
    service,
    process: Math.floor(victims() * options.replicas[service]!),
    at: momentAt(moments()),
    downMs: randomInt(downtimes, ...KILL_DOWN_MS),
  }));
  const restarts: ChaosFault[] = (['restart-nats', 'restart-postgres'] as const).map((kind) => ({
    kind,
    at: momentAt(moments()),
    downMs: randomInt(downtimes, ...DEPENDENCY_DOWN_MS),
  }));
  const faults = [...kills, ...(options.dependencyRestarts === false ? [] : restarts)].sort(
    (a, b) => momentOrder(a.at) - momentOrder(b.at),
  );

  const removedRepos = shuffled(repos, selected).slice(0, options.removed).sort();
  return {
    seed: options.seed,
    faults,
    removedRepos,
    sim: { seed: randomInt(sim, 1, 2 ** 31 - 1), ...options.sim },
  };
}

/** The moment at position `u` (0..1) of the whole run. */
export function momentAt(u: number): Moment {
  let start = 0;
  for (const phase of CHAOS_PHASES) {
    const share = PHASE_SHARES[phase];
    if (u < start + share || phase === 'remove') {
      return { phase, progress: Math.min(0.999, Math.max(0, (u - start) / share)) };
    }
    start += share;
  }
  throw new Error('unreachable');
}

/** A number that orders moments: earlier phases first, then by progress. */
export function momentOrder(moment: Moment): number {
  return CHAOS_PHASES.indexOf(moment.phase) + moment.progress;
}

/** One line for a fault, as the bench's table shows it. */
export function describeFault(fault: ChaosFault): string {
  const down = `${(fault.downMs / 1000).toFixed(1)} s down`;
  switch (fault.kind) {
    case 'kill':
      return `kill -9 ${fault.service} #${fault.process}, restart after ${down}`;
    case 'restart-nats':
      return `restart NATS (${down})`;
    case 'restart-postgres':
      return `restart PostgreSQL (${down})`;
  }
}
