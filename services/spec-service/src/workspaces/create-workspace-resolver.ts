import {
  GlobError,
  matchesGlob,
  parseSearchQuery,
  type CampaignSpec,
  type OnQueryEntry,
  type OnRepositoryEntry,
  type WorkspaceConfiguration,
} from '@campaigns/campaign-spec';
import { silentLogger, type EventsLogger, type WorkspaceData } from '@campaigns/events';
import type { DataSource } from 'typeorm';
import { gitLsRemoteBranchHead, type BranchHeadResolver } from './branch-head.js';
import { gitHeadContents, type FileContents, type HeadContentsReader } from './head-contents.js';
import { mapLimit } from './map-limit.js';
import { CompiledQuery } from './query-evaluator.js';
import { unmatchedPatterns } from './unmatched-patterns.js';
import {
  RepositoryIndex,
  RepositoryIndexError,
  type IndexedCodeHost,
  type IndexedRepository,
} from './repository-index.js';
import type {
  ImportedPullRequest,
  ResolutionProblem,
  ResolvedWorkspaces,
  WorkspaceResolver,
} from './workspace-resolver.js';

/** At most this many search result paths are kept per workspace (WorkspaceData's limit). */
export const MAX_SEARCH_RESULT_PATHS = 100;

/**
 * A content search reads the files of at most this many repositories (those its other filters
 * leave); a query that would read more is refused with a problem rather than cut short.
 */
export const MAX_CONTENT_SEARCH_REPOSITORIES = 200;

/** Repositories whose files a content search reads at once. */
const CONTENT_CONCURRENCY = 4;

/** Explicit `repository:` entries indexed at once. */
const ENSURE_CONCURRENCY = 8;

/**
 * The spec-service's `maxAgeMs` (unless `REPOSITORY_INDEX_MAX_AGE_MS` says otherwise): an apply
 * sees pushes older than 10 s, and applies arriving together (CI re-applying many specs, several
 * replicas) share one refresh instead of each listing again.
 */
export const DEFAULT_INDEX_MAX_AGE_MS = 10_000;

export interface WorkspaceResolverOptions {
  /** The index to use; when absent one is made from `database` and `codeHosts`. */
  index?: RepositoryIndex;
  database?: DataSource;
  codeHosts?: readonly IndexedCodeHost[];
  logger?: EventsLogger;
  /**
   * Skip the refresh when every code host was refreshed less than this long ago (by any
   * instance: the time is kept in the database, and instances take turns refreshing). Default 0:
   * refresh on every resolve. An incremental refresh costs a few requests (see RepositoryIndex);
   * the spec-service sets `DEFAULT_INDEX_MAX_AGE_MS` so that a burst of applies shares one.
   */
  maxAgeMs?: number;
  /** Resolves branches other than the default one; `git ls-remote` by default. */
  branchHead?: BranchHeadResolver;
  /** Reads a repository's files for content search; a shallow `git fetch` by default. */
  headContents?: HeadContentsReader;
}

interface Candidate {
  repo: IndexedRepository;
  branch: string;
  baseRevision: string;
  paths: string[];
}

/**
 * The spec-service's `WorkspaceResolver` over a `RepositoryIndex`:
 *
 * 1. When the spec has a `repositoriesMatchingQuery` entry, refreshes the index once (unless
 *    `maxAgeMs` says the last refresh is recent; concurrent resolves share one refresh). A code
 *    host failure during the refresh throws an Error saying which host and why.
 * 2. Evaluates each query against the repositories the configured organizations list, scanning
 *    the index a batch at a time (see `CompiledQuery` for the filters); matches are on the
 *    default branch at its head commit. Content search reads the files of the repositories its
 *    other filters leave (`headContents`, each head commit once, at most
 *    MAX_CONTENT_SEARCH_REPOSITORIES a query, else a problem refuses it) and decides exactly;
 *    structural search is approximated, and a problem says so. `count:N` keeps the first N matching repositories in name order
 *    (a problem says how many it left out).
 * 3. Indexes each `repository:` entry on demand (`ensure`); an unknown repository or a code
 *    host that is not configured is a problem, not a throw. `branch:`/`branches:` other than the
 *    default branch are resolved with `git ls-remote`; a missing branch is a problem. As on
 *    Sourcegraph, a `repository:` entry with branches overrides the default branch a query
 *    selected for the same repository.
 * 4. Splits repositories that a `workspaces:` entry's `in` glob matches into one workspace per
 *    directory holding `rootAtLocationOf` ('' for the root); as on Sourcegraph, such a
 *    repository without that file gets no workspace (reported as a problem), and repositories no
 *    `in` matches keep their root workspace. A workspace's `searchResultPaths` are the query's
 *    matched paths inside its directory (repository-relative, sorted, at most 100).
 *
 * Entries matching nothing, empty repositories (no head commit), and `workspaces[].in` or
 * `changesetTemplate.published` patterns matching no resolved repository are problems. The result is
 * deduplicated by (repository, branch, path) and sorted by repository, branch, then path.
 */
export function createWorkspaceResolver(options: WorkspaceResolverOptions): WorkspaceResolver {
  return new IndexWorkspaceResolver(options);
}

export class IndexWorkspaceResolver implements WorkspaceResolver {
  readonly index: RepositoryIndex;
  readonly #logger: EventsLogger;
  readonly #maxAgeMs: number;
  readonly #branchHead: BranchHeadResolver;
  readonly #headContents: HeadContentsReader;
  #refreshing: Promise<void> | undefined;

  constructor(options: WorkspaceResolverOptions) {
    if (options.index !== undefined) {
      this.index = options.index;
    } else if (options.database !== undefined && options.codeHosts !== undefined) {
      this.index = new RepositoryIndex({
        database: options.database,
        codeHosts: options.codeHosts,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      });
    } else {
      throw new Error('createWorkspaceResolver needs an index, or a database and code hosts');
    }
    this.#logger = options.logger ?? silentLogger;
    this.#maxAgeMs = options.maxAgeMs ?? 0;
    this.#branchHead = options.branchHead ?? gitLsRemoteBranchHead;
    this.#headContents = options.headContents ?? gitHeadContents;
  }

  async resolve(spec: CampaignSpec): Promise<ResolvedWorkspaces> {
    const problems: ResolutionProblem[] = [];
    const queries = spec.on.filter((e): e is OnQueryEntry => 'repositoriesMatchingQuery' in e);
    const explicit = spec.on.filter((e): e is OnRepositoryEntry => 'repository' in e);

    const fromQueries = new Map<string, Candidate>();
    if (queries.length > 0) {
      await this.#refresh();
      // Each entry's problems in order (parse, empty repositories, no match), listed entry by entry.
      // Matches counted; kept under count:; pre-filter matches whose files content search reads.
      const counts = () => ({
        matched: 0,
        kept: 0,
        pending: [] as IndexedRepository[],
        pendingCount: 0,
      });
      const entries = queries.map((entry) => {
        const described = `repositoriesMatchingQuery: ${entry.repositoriesMatchingQuery}`;
        const entryProblems: ResolutionProblem[] = [];
        const problem = (message: string) => entryProblems.push({ entry: described, message });
        const parsed = parseSearchQuery(entry.repositoriesMatchingQuery, { version: spec.version });
        if (parsed.query === undefined) {
          problem(`invalid query: ${parsed.errors.map((e) => e.message).join('; ')}`);
          return { ...counts(), compiled: undefined, problem, entryProblems };
        }
        const compiled = new CompiledQuery(parsed.query);
        if (compiled.approximated !== undefined) problem(compiled.approximated);
        return { ...counts(), compiled, problem, entryProblems };
      });
      type Entry = (typeof entries)[number];
      // Only repositories split into workspaces need their files and every matched path later;
      // the others keep the first paths only, so memory does not grow with the index.
      const take = (entry: Entry, repo: IndexedRepository, paths: string[]) => {
        entry.matched++;
        // count:N keeps the first N in name order (the scan's): the same N on every resolve.
        if (entry.compiled!.limit !== undefined && entry.kept >= entry.compiled!.limit) return;
        entry.kept++;
        const split = splitsIntoWorkspaces(repo.name, spec.workspaces);
        addCandidate(fromQueries, {
          repo: split ? repo : { ...repo, files: [] },
          branch: repo.defaultBranch,
          baseRevision: repo.headCommit!,
          paths: split ? paths : paths.slice(0, MAX_SEARCH_RESULT_PATHS),
        });
      };
      const reportedEmpty = new Set<string>();
      await this.index.scan((batch) => {
        for (const repo of batch) {
          for (const entry of entries) {
            const match = entry.compiled?.match(repo);
            if (match === undefined) continue;
            if (entry.compiled!.searchesContent) {
              // A pre-filter match: decided once the files are read (an empty repository has none).
              if (repo.headCommit === null) continue;
              if (++entry.pendingCount <= MAX_CONTENT_SEARCH_REPOSITORIES) entry.pending.push(repo);
              continue;
            }
            if (repo.headCommit === null) {
              entry.matched++;
              if (!reportedEmpty.has(repo.name)) entry.problem(emptyRepository(repo));
              reportedEmpty.add(repo.name);
              continue;
            }
            take(entry, repo, match.paths);
          }
        }
      });
      const contents = new Map<string, Promise<FileContents>>();
      for (const entry of entries) {
        if (entry.pendingCount > MAX_CONTENT_SEARCH_REPOSITORIES) {
          entry.problem(
            `content search would read the files of ${entry.pendingCount} repositories, more than the ${MAX_CONTENT_SEARCH_REPOSITORIES} a query may; narrow it with repo:, file: or lang: filters (nothing was selected)`,
          );
          continue;
        }
        const read = (repo: IndexedRepository) => {
          let files = contents.get(repo.headCommit!);
          if (files === undefined) {
            files = this.#headContents(this.#config(repo), repo.name, repo.headCommit!);
            files.catch(() => undefined);
            contents.set(repo.headCommit!, files);
          }
          return files;
        };
        const files = await mapLimit(entry.pending, CONTENT_CONCURRENCY, async (repo) => {
          try {
            return await read(repo);
          } catch (error) {
            throw new Error(`cannot resolve workspaces: ${(error as Error).message}`, {
              cause: error,
            });
          }
        });
        entry.pending.forEach((repo, i) => {
          const match = entry.compiled!.match(repo, files[i]);
          if (match !== undefined) take(entry, repo, match.paths);
        });
      }
      for (const entry of entries) {
        if (
          entry.compiled !== undefined &&
          entry.matched === 0 &&
          entry.pendingCount <= MAX_CONTENT_SEARCH_REPOSITORIES
        )
          entry.problem('matched no repository');
        const limit = entry.compiled?.limit;
        if (limit !== undefined && entry.matched - entry.kept > 0 && entry.kept === limit)
          entry.problem(
            `count:${limit} kept the first ${limit} of the ${entry.matched} matching repositories (in name order); the others get no workspace`,
          );
        problems.push(...entry.entryProblems);
      }
    }

    const fromEntries = new Map<string, Candidate>();
    const overridden = new Set<string>();
    // Indexed on demand, each repository once, several at a time.
    const ensured = new Map<string, IndexedRepository | undefined | RepositoryIndexError>();
    const spellings = new Map(
      [...explicit, ...spec.importChangesets].map((e) => [
        e.repository.toLowerCase(),
        e.repository,
      ]),
    );
    await mapLimit([...spellings], ENSURE_CONCURRENCY, async ([key, name]) => {
      try {
        ensured.set(key, await this.index.ensure(name));
      } catch (error) {
        if (!(error instanceof RepositoryIndexError && error.reason === 'no_code_host'))
          throw error;
        ensured.set(key, error);
      }
    });
    for (const entry of explicit) {
      const described = `repository: ${entry.repository}`;
      const problem = (message: string) => problems.push({ entry: described, message });
      const repo = ensured.get(entry.repository.toLowerCase());
      if (repo instanceof RepositoryIndexError) {
        problem(repo.message);
        continue;
      }
      if (repo === undefined) {
        problem(`repository ${entry.repository} not found on ${hostOf(entry.repository)}`);
        continue;
      }
      const branches = entry.branches ?? (entry.branch === undefined ? undefined : [entry.branch]);
      if (branches !== undefined) overridden.add(repo.name);
      for (const branch of branches ?? [repo.defaultBranch]) {
        let head: string | null;
        if (branch === repo.defaultBranch) {
          head = repo.headCommit;
          if (head === null) {
            problem(emptyRepository(repo));
            continue;
          }
        } else {
          try {
            head = await this.#branchHead(this.#config(repo), repo.name, branch);
          } catch (error) {
            problem(`could not resolve branch ${branch}: ${(error as Error).message}`);
            continue;
          }
          if (head === null) {
            problem(`branch ${branch} not found in ${repo.name}`);
            continue;
          }
        }
        addCandidate(fromEntries, { repo, branch, baseRevision: head, paths: [] });
      }
    }

    const candidates = [...fromEntries.values()];
    for (const candidate of fromQueries.values()) {
      if (overridden.has(candidate.repo.name)) continue;
      const key = candidateKey(candidate.repo.name, candidate.branch);
      const same = fromEntries.get(key);
      if (same !== undefined) same.paths = mergePaths(same.paths, candidate.paths);
      else candidates.push(candidate);
    }

    const workspaces = new Map<string, WorkspaceData>();
    for (const candidate of candidates) {
      for (const workspace of await this.#split(candidate, spec.workspaces, problems)) {
        const key = `${workspace.repository}\0${workspace.branch}\0${workspace.path}`;
        const existing = workspaces.get(key);
        if (existing === undefined) workspaces.set(key, workspace);
        else
          existing.searchResultPaths = mergePaths(
            existing.searchResultPaths,
            workspace.searchResultPaths,
          ).slice(0, MAX_SEARCH_RESULT_PATHS);
      }
    }
    const sorted = [...workspaces.values()].sort(
      (a, b) =>
        compare(a.repository, b.repository) ||
        compare(a.branch, b.branch) ||
        compare(a.path, b.path),
    );
    problems.push(
      ...unmatchedPatterns(
        spec,
        candidates.map((c) => ({ repository: c.repo.name, branch: c.branch })),
        this.index.codeHosts.map((h) => h.config.host),
      ),
    );
    const imports = importedPullRequests(spec, ensured, problems);
    this.#logger.info(
      {
        workspaces: sorted.length,
        imports: imports.length,
        problems: problems.length,
        campaign: spec.name,
      },
      'workspaces resolved',
    );
    return { workspaces: sorted, problems, imports };
  }

  async #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        // Under the index's lock even at 0: instances take turns instead of listing at once.
        await this.index.refreshIfOlderThan(this.#maxAgeMs);
      } catch (error) {
        throw new Error(
          `cannot resolve workspaces: the repository index could not be refreshed: ${(error as Error).message}`,
          { cause: error },
        );
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #config(repo: IndexedRepository) {
    const host = this.index.codeHosts.find((h) => h.config.id === repo.codeHostId);
    if (host === undefined) throw new Error(`code host ${repo.codeHostId} is not configured`);
    return host.config;
  }

  async #split(
    candidate: Candidate,
    configurations: readonly WorkspaceConfiguration[],
    problems: ResolutionProblem[],
  ): Promise<WorkspaceData[]> {
    const { repo, branch, baseRevision } = candidate;
    const matching: WorkspaceConfiguration[] = [];
    for (const configuration of configurations) {
      try {
        if (matchesGlob(configuration.in, repo.name)) matching.push(configuration);
      } catch (error) {
        if (!(error instanceof GlobError)) throw error;
        problems.push({ entry: describeWorkspace(configuration), message: error.message });
      }
    }
    const root = (): WorkspaceData[] => [
      {
        repository: repo.name,
        branch,
        baseRevision,
        path: '',
        searchResultPaths: candidate.paths.slice(0, MAX_SEARCH_RESULT_PATHS),
      },
    ];
    const configuration = matching[0];
    if (configuration === undefined) return root();
    if (matching.length > 1) {
      problems.push({
        entry: describeWorkspace(configuration),
        message: `${repo.name} is matched by ${matching.length} workspaces entries; only the first applies`,
      });
    }
    let files: readonly string[] = repo.files;
    if (baseRevision !== repo.headCommit) {
      const host = this.index.codeHosts.find((h) => h.config.id === repo.codeHostId);
      if (host === undefined) return root();
      try {
        files = await host.codeHost.listFiles(repo.name, baseRevision);
      } catch (error) {
        throw new Error(
          `cannot resolve workspaces: listing the files of ${repo.name} at ${branch} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    const marker = configuration.rootAtLocationOf.replace(/^\/+/, '');
    const directories = new Set<string>();
    for (const file of files) {
      if (file === marker) directories.add('');
      else if (file.endsWith(`/${marker}`)) directories.add(file.slice(0, -marker.length - 1));
    }
    if (directories.size === 0) {
      problems.push({
        entry: describeWorkspace(configuration),
        message: `${repo.name}${branch === repo.defaultBranch ? '' : `@${branch}`} has no ${marker}; it gets no workspace`,
      });
      return [];
    }
    return [...directories].sort().map((path) => ({
      repository: repo.name,
      branch,
      baseRevision,
      path,
      searchResultPaths: candidate.paths
        .filter((p) => path === '' || p.startsWith(`${path}/`))
        .slice(0, MAX_SEARCH_RESULT_PATHS),
    }));
  }
}

function addCandidate(into: Map<string, Candidate>, candidate: Candidate): void {
  const key = candidateKey(candidate.repo.name, candidate.branch);
  const existing = into.get(key);
  if (existing === undefined) into.set(key, candidate);
  else existing.paths = mergePaths(existing.paths, candidate.paths);
}

function candidateKey(repo: string, branch: string): string {
  return `${repo}\0${branch}`;
}

/** The union, sorted; unbounded (the limit applies per workspace). */
function mergePaths(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort(compare);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyRepository(repo: IndexedRepository): string {
  return `repository ${repo.name} is empty (it has no commit yet); skipped`;
}

/** Whether a `workspaces:` entry's `in` glob matches the repository (an invalid glob does not). */
function splitsIntoWorkspaces(
  repo: string,
  configurations: readonly WorkspaceConfiguration[],
): boolean {
  return configurations.some((configuration) => {
    try {
      return matchesGlob(configuration.in, repo);
    } catch (error) {
      if (error instanceof GlobError) return false;
      throw error;
    }
  });
}

function hostOf(repo: string): string {
  return repo.split('/')[0] ?? repo;
}

function describeWorkspace(configuration: WorkspaceConfiguration): string {
  return `workspaces: rootAtLocationOf ${configuration.rootAtLocationOf} in ${configuration.in}`;
}

/**
 * The pull requests `importChangesets` lists whose repository the code host has, each once; a
 * repository it does not have, or an external ID that is no pull request number, is a problem.
 */
function importedPullRequests(
  spec: CampaignSpec,
  ensured: ReadonlyMap<string, IndexedRepository | undefined | RepositoryIndexError>,
  problems: ResolutionProblem[],
): ImportedPullRequest[] {
  const imports = new Map<string, ImportedPullRequest>();
  for (const entry of spec.importChangesets) {
    const described = `importChangesets: ${entry.repository}`;
    const repo = ensured.get(entry.repository.toLowerCase());
    if (repo instanceof RepositoryIndexError) {
      problems.push({ entry: described, message: repo.message });
      continue;
    }
    if (repo === undefined) {
      problems.push({
        entry: described,
        message: `repository ${entry.repository} not found on ${hostOf(entry.repository)}; its changesets are not imported`,
      });
      continue;
    }
    for (const id of entry.externalIDs) {
      const text = String(id).trim();
      const number = /^#?[1-9][0-9]{0,9}$/.test(text) ? Number(text.replace('#', '')) : NaN;
      if (!Number.isSafeInteger(number) || number > 2 ** 31 - 1) {
        problems.push({
          entry: described,
          message: `external ID ${JSON.stringify(id)} is not a pull request number; it is not imported`,
        });
        continue;
      }
      imports.set(`${repo.name}#${number}`, { repository: repo.name, number });
    }
  }
  return [...imports.values()].sort(
    (a, b) => compare(a.repository, b.repository) || a.number - b.number,
  );
}
