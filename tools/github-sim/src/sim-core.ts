// Everything a running simulator is made of, in one object that plugins (webhooks, GraphQL)
// receive: the state and its change feed, the bare repositories, the operations, the JSON
// renderer, rate limits, faults, the request log and the places to add routes and control commands.
import { Faults } from './limits/faults.js';
import {
  ANONYMOUS_LIMITS,
  budgetKey,
  RateLimits,
  type RateSnapshot,
} from './limits/rate-limits.js';
import type { RepoStore } from './git/repo-store.js';
import { Router, type ApiRoute } from './http/router.js';
import { CheckOperations } from './operations/checks.js';
import { PullRequestOperations } from './operations/pull-requests.js';
import { RepositoryOperations } from './operations/repositories.js';
import { GithubJson, type SimUrls } from './representations/github-json.js';
import { CodeIndex } from './search/code-index.js';
import type { Hook, Repository, Token, TokenLimits } from './state/model.js';
import type { SimState } from './state/sim-state.js';

/** One line of the request log: enough for tests to count API calls. */
export interface RequestLogEntry {
  seq: number;
  requestId: string;
  at: string;
  kind: 'rest' | 'graphql' | 'git' | 'control' | 'other';
  method: string;
  path: string;
  status: number;
  /** The token used (the simulator's tokens are fakes), or null when anonymous. */
  token: string | null;
  login: string | null;
  /** Counted against the secondary content-creation limit. */
  createdContent: boolean;
  durationMs: number;
}

export type ControlHandler = (input: never, core: SimCore) => Promise<unknown> | unknown;

/** A plugin adds behaviour to a simulator when it starts (routes, change feed listeners, control commands). */
export interface SimPlugin {
  name: string;
  setup(core: SimCore): void | Promise<void>;
  /** Called when the simulator stops, before the HTTP server closes. */
  stop?(): void | Promise<void>;
}

export class SimCore {
  readonly router = new Router();
  readonly limits: RateLimits;
  /** Requests refused by a rate limit since the simulator started, by kind. */
  readonly limitRefusals = { primary: 0, secondary: 0 };
  /** The refusals themselves, newest last (at most `requestLogCapacity`). */
  readonly limitRefusalLog: {
    at: number;
    kind: string;
    reason: string;
    method: string;
    path: string;
  }[] = [];
  readonly repositories: RepositoryOperations;
  readonly pulls: PullRequestOperations;
  readonly checks: CheckOperations;
  readonly json: GithubJson;
  readonly codeIndex: CodeIndex;
  readonly controlCommands = new Map<string, ControlHandler>();
  readonly requestLog: RequestLogEntry[] = [];
  private logSeq = 0;
  /** Oldest entries are dropped beyond this. */
  requestLogCapacity = 100_000;
  /** Status GitHub uses when the primary limit is exhausted: 403 (REST today) or 429. */
  primaryLimitStatus: 403 | 429 = 403;

  constructor(
    readonly state: SimState,
    readonly store: RepoStore,
    readonly urls: SimUrls,
    readonly faults: Faults = new Faults(),
    /** The clock rate limits count on (a sped-up one for rollout benchmarks). */
    limitsClock: () => number = Date.now,
  ) {
    this.limits = new RateLimits(limitsClock);
    this.json = new GithubJson(state, urls);
    this.codeIndex = new CodeIndex(store);
    this.repositories = new RepositoryOperations(state, store);
    this.pulls = new PullRequestOperations(state, this.repositories);
    this.checks = new CheckOperations(state, this.repositories, this.pulls);
  }

  private readonly hookCreatedListeners = new Set<(hook: Hook, actor: string) => void>();

  /** Listens for new webhooks (GitHub pings a hook when it is created); returns the unsubscribe. */
  onHookCreated(listener: (hook: Hook, actor: string) => void): () => void {
    this.hookCreatedListeners.add(listener);
    return () => this.hookCreatedListeners.delete(listener);
  }

  /** Creates a hook and announces it to the `onHookCreated` listeners. */
  createHook(input: Parameters<SimState['createHook']>[0], actor: string): Hook {
    const hook = this.state.createHook(input);
    for (const listener of this.hookCreatedListeners) listener(hook, actor);
    return hook;
  }

  /** Adds an API route (full path, e.g. /api/v3/... or /api/graphql); requests go through auth, faults and limits. */
  route(route: ApiRoute): void {
    this.router.add(route);
  }

  /** Adds a control command: POST /_control/{name} with a JSON body. */
  control<I, O>(name: string, handler: (input: I, core: SimCore) => Promise<O> | O): void {
    this.controlCommands.set(name, handler as ControlHandler);
  }

  /** The token behind an Authorization header value, null when absent, 'invalid' when unknown. */
  authenticate(authorization: string | undefined): Token | null | 'invalid' {
    if (!authorization) return null;
    const [scheme, value = ''] = authorization.split(/\s+/, 2);
    let secret: string;
    switch (scheme?.toLowerCase()) {
      case 'token':
      case 'bearer':
        secret = value;
        break;
      case 'basic': {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        // Like GitHub: x-access-token:TOKEN, or any username with the token as password.
        secret = colon < 0 ? decoded : decoded.slice(colon + 1);
        break;
      }
      default:
        return 'invalid';
    }
    return this.state.getToken(secret) ?? 'invalid';
  }

  /** Limits that apply to a token (anonymous callers get GitHub's unauthenticated limits). */
  limitsOf(token: Token | null): TokenLimits {
    return token ? token.limits : ANONYMOUS_LIMITS;
  }

  /**
   * Charges GraphQL points (the GraphQL endpoint's hook into the limits): returns whether the
   * query fits the token's remaining budget and the budget after it.
   */
  chargeGraphqlPoints(
    token: Token | null,
    remoteAddress: string,
    points: number,
  ): { ok: boolean; snapshot: RateSnapshot } {
    return this.limits.chargeGraphql(budgetKey(token, remoteAddress), this.limitsOf(token), points);
  }

  /** Whether `login` may see a repository (GitHub answers 404 when not). */
  /** Forks still being made (`faults.forkDelayMs`): repository id → when they appear. */
  private readonly forksInProgress = new Map<number, number>();

  /** A fork was just made: it stays out of sight for `forkDelayMs`, as GitHub's do for a while. */
  forkAccepted(fork: Repository): void {
    const delay = this.faults.current.forkDelayMs;
    if (delay > 0) this.forksInProgress.set(fork.id, Date.now() + delay);
  }

  private forkInProgress(repository: Repository): boolean {
    const ready = this.forksInProgress.get(repository.id);
    if (ready === undefined) return false;
    if (Date.now() < ready) return true;
    this.forksInProgress.delete(repository.id);
    return false;
  }

  canRead(repository: Repository, login: string | null): boolean {
    if (this.forksInProgress.size > 0 && this.forkInProgress(repository)) return false;
    if (repository.visibility === 'public') return true;
    if (login === null) return false;
    return this.canWrite(repository, login);
  }

  canWrite(repository: Repository, login: string | null): boolean {
    if (login === null) return false;
    const account = this.state.getAccount(login);
    if (account?.site_admin) return true;
    if (repository.owner.toLowerCase() === login.toLowerCase()) return true;
    const owner = this.state.getAccount(repository.owner);
    return owner?.type === 'Organization' && this.state.isMember(owner, login);
  }

  logRequest(entry: Omit<RequestLogEntry, 'seq'>): void {
    this.requestLog.push({ seq: ++this.logSeq, ...entry });
    if (this.requestLog.length > this.requestLogCapacity)
      this.requestLog.splice(0, this.requestLog.length - this.requestLogCapacity);
  }
}
