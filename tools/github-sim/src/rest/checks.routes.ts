// Commit statuses, the combined status, check runs and check suites.
import { notFound, validationFailed } from '../http/http-error.js';
import type {
  CheckConclusion,
  CheckStatus,
  CommitStatusState,
  Repository,
} from '../state/model.js';
import type { SimCore } from '../sim-core.js';
import {
  API,
  bodyOf,
  paginate,
  repoOf,
  translating,
  viewerOf,
  writableRepoOf,
} from './rest-helpers.js';

const CONCLUSIONS = [
  'action_required',
  'cancelled',
  'failure',
  'neutral',
  'success',
  'skipped',
  'stale',
  'timed_out',
] as const;

export function registerCheckRoutes(core: SimCore): void {
  const { json, state, checks, store } = core;
  const REPO = `${API}/repos/{owner}/{repo}`;

  const commitOf = async (r: Repository, ref: string): Promise<string> => {
    const sha = r.branches[ref] ?? (await store.resolveCommit(core.repositories.pathOf(r), ref));
    if (!sha) throw validationFailed([], undefined, `No commit found for SHA: ${ref}`);
    return sha;
  };

  core.route({
    method: 'POST',
    path: `${REPO}/statuses/{sha}`,
    createsContent: true,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const body = bodyOf(request, 'Status', {
        state: { type: 'string', required: true, enum: ['error', 'failure', 'pending', 'success'] },
        target_url: { type: 'string' },
        description: { type: 'string' },
        context: { type: 'string' },
      });
      const status = await translating('Status', () =>
        checks.createStatus(r, {
          actor: viewerOf(request),
          sha: request.params.sha!,
          state: body.state as CommitStatusState,
          context: body.context as string | undefined,
          description: body.description as string | undefined,
          target_url: body.target_url as string | undefined,
        }),
      );
      return { status: 201, body: json.status(status) };
    },
  });

  core.route({
    method: 'GET',
    path: `${REPO}/commits/{+ref}/statuses`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const sha = await commitOf(r, request.params.ref!);
      return paginate(request, core, state.listStatuses(r, sha), (s) => json.status(s));
    },
  });

  core.route({
    method: 'GET',
    path: `${REPO}/commits/{+ref}/status`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const sha = await commitOf(r, request.params.ref!);
      return { body: json.combinedStatus(r, sha, state.listStatuses(r, sha)) };
    },
  });

  // ---- check runs and suites -----------------------------------------------------------------

  core.route({
    method: 'POST',
    path: `${REPO}/check-runs`,
    createsContent: true,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const body = bodyOf(request, 'CheckRun', {
        name: { type: 'string', required: true },
        head_sha: { type: 'string', required: true },
        status: { type: 'string', enum: ['queued', 'in_progress', 'completed'] },
        conclusion: { type: 'string', enum: CONCLUSIONS },
        details_url: { type: 'string' },
        external_id: { type: 'string' },
        output: { type: 'object' },
      });
      const run = await translating('CheckRun', () =>
        checks.createCheckRun(r, {
          actor: viewerOf(request),
          name: body.name as string,
          head_sha: body.head_sha as string,
          status: body.status as CheckStatus | undefined,
          conclusion: body.conclusion as CheckConclusion | undefined,
          details_url: body.details_url as string | undefined,
          external_id: body.external_id as string | undefined,
          output: body.output as { title?: string; summary?: string; text?: string } | undefined,
          app: viewerOf(request),
        }),
      );
      return { status: 201, body: json.checkRun(run) };
    },
  });

  core.route({
    method: 'PATCH',
    path: `${REPO}/check-runs/{check_run_id}`,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const run = state.getCheckRun(Number(request.params.check_run_id));
      if (!run || run.repository_id !== r.id) throw notFound();
      const body = bodyOf(request, 'CheckRun', {
        name: { type: 'string' },
        status: { type: 'string', enum: ['queued', 'in_progress', 'completed'] },
        conclusion: { type: 'string', enum: CONCLUSIONS },
        details_url: { type: 'string' },
        external_id: { type: 'string' },
        output: { type: 'object' },
      });
      await translating('CheckRun', () =>
        checks.updateCheckRun(r, run, {
          actor: viewerOf(request),
          name: body.name as string | undefined,
          status: body.status as CheckStatus | undefined,
          conclusion: body.conclusion as CheckConclusion | undefined,
          details_url: body.details_url as string | undefined,
          external_id: body.external_id as string | undefined,
          output: body.output as { title?: string; summary?: string; text?: string } | undefined,
        }),
      );
      return { body: json.checkRun(run) };
    },
  });

  core.route({
    method: 'GET',
    path: `${REPO}/check-runs/{check_run_id}`,
    handler: (request) => {
      const r = repoOf(core, request);
      const run = state.getCheckRun(Number(request.params.check_run_id));
      if (!run || run.repository_id !== r.id) throw notFound();
      return { body: json.checkRun(run) };
    },
  });

  core.route({
    method: 'GET',
    path: `${REPO}/commits/{+ref}/check-runs`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const sha = await commitOf(r, request.params.ref!);
      const name = request.query.get('check_name');
      const status = request.query.get('status');
      const runs = state
        .listCheckRuns(r, sha)
        .filter(
          (run) =>
            (name === null || run.name === name) && (status === null || run.status === status),
        )
        .reverse();
      const page = paginate(request, core, runs, (run) => json.checkRun(run));
      return { ...page, body: { total_count: runs.length, check_runs: page.body } };
    },
  });

  core.route({
    method: 'GET',
    path: `${REPO}/commits/{+ref}/check-suites`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const sha = await commitOf(r, request.params.ref!);
      const suites = state.listCheckSuites(r, sha);
      const commit = await store.readCommit(core.repositories.pathOf(r), sha);
      const page = paginate(request, core, suites, (s) => json.checkSuite(s, commit));
      return { ...page, body: { total_count: suites.length, check_suites: page.body } };
    },
  });
}
