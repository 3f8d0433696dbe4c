// Pull requests, their reviews, issue comments and labels.
import { HttpError, notFound, validationFailed } from '../http/http-error.js';
import type { ApiRequest } from '../http/router.js';
import type { MergeMethod, PullRequest, Repository } from '../state/model.js';
import type { SimCore } from '../sim-core.js';
import {
  API,
  bodyOf,
  numberParam,
  paginate,
  repoOf,
  translating,
  viewerOf,
  writableRepoOf,
} from './rest-helpers.js';

export function registerPullRoutes(core: SimCore): void {
  const { json, state, pulls, store } = core;
  const PULLS = `${API}/repos/{owner}/{repo}/pulls`;
  const ISSUES = `${API}/repos/{owner}/{repo}/issues`;

  const pullOf = (r: Repository, request: ApiRequest, param = 'pull_number'): PullRequest => {
    const pull = state.getPullRequest(r, numberParam(request, param));
    if (!pull) throw notFound('https://docs.github.com/rest/pulls/pulls#get-a-pull-request');
    return pull;
  };

  const full = async (r: Repository, pull: PullRequest) => {
    await pulls.ensureComputed(r, pull);
    return json.pullRequest(pull, true);
  };

  core.route({
    method: 'GET',
    path: PULLS,
    handler: (request) => {
      const r = repoOf(core, request);
      const stateFilter = request.query.get('state') ?? 'open';
      const head = request.query.get('head');
      const base = request.query.get('base');
      const headBranch = head === null ? null : head.includes(':') ? head : `${r.owner}:${head}`;
      let list = state
        .listPullRequests(r)
        .filter((p) => stateFilter === 'all' || p.state === stateFilter);
      if (headBranch !== null)
        list = list.filter(
          (p) =>
            `${pulls.headRepositoryOf(r, p).owner}:${p.head.ref}`.toLowerCase() ===
            headBranch.toLowerCase(),
        );
      if (base !== null) list = list.filter((p) => p.base.ref === base);
      const sort = request.query.get('sort') ?? 'created';
      const desc = (request.query.get('direction') ?? 'desc') === 'desc';
      const key = (p: PullRequest) =>
        sort === 'updated' ? p.updated_at : sort === 'created' ? p.created_at : p.updated_at;
      list.sort(
        (a, b) =>
          (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.number - b.number) * (desc ? -1 : 1),
      );
      return paginate(request, core, list, (p) => json.pullRequest(p, false));
    },
  });

  core.route({
    method: 'POST',
    path: PULLS,
    createsContent: true,
    handler: async (request) => {
      const r = repoOf(core, request);
      const body = bodyOf(request, 'PullRequest', {
        title: { type: 'string' },
        head: { type: 'string', required: true },
        base: { type: 'string', required: true },
        body: { type: 'string' },
        draft: { type: 'boolean' },
        maintainer_can_modify: { type: 'boolean' },
        issue: { type: 'number' },
      });
      if (body.title === undefined)
        throw validationFailed([
          { resource: 'PullRequest', field: 'title', code: 'missing_field' },
        ]);
      // As on GitHub, opening a pull request from a fork takes write access to the fork, not to
      // the base repository; from a branch of the base repository it takes write access there.
      const head = pulls.headOf(r, body.head as string);
      if (head === null || head.repository === r) writableRepoOf(core, request);
      else if (!core.canWrite(head.repository, viewerOf(request)))
        throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
      const pull = await translating('PullRequest', () =>
        pulls.create(r, {
          actor: viewerOf(request),
          title: body.title as string,
          head: body.head as string,
          base: body.base as string,
          body: (body.body as string | undefined) ?? null,
          draft: body.draft as boolean | undefined,
          maintainer_can_modify: body.maintainer_can_modify as boolean | undefined,
        }),
      );
      return {
        status: 201,
        body: json.pullRequest(pull, true),
        headers: { location: `${core.urls.api}/repos/${r.owner}/${r.name}/pulls/${pull.number}` },
      };
    },
  });

  core.route({
    method: 'GET',
    path: `${PULLS}/{pull_number}`,
    handler: async (request) => {
      const r = repoOf(core, request);
      return { body: await full(r, pullOf(r, request)) };
    },
  });

  core.route({
    method: 'PATCH',
    path: `${PULLS}/{pull_number}`,
    handler: async (request) => {
      // The author of a pull request (e.g. from a fork) may edit, close and reopen it without
      // write access to the base repository, as on GitHub.
      const readable = repoOf(core, request);
      const own = state.getPullRequest(readable, numberParam(request, 'pull_number'));
      const r =
        own !== undefined && own.user.toLowerCase() === request.viewer?.toLowerCase()
          ? readable
          : writableRepoOf(core, request);
      const pull = pullOf(r, request);
      const body = bodyOf(request, 'PullRequest', {
        title: { type: 'string' },
        body: { type: 'string' },
        base: { type: 'string' },
        state: { type: 'string', enum: ['open', 'closed'] },
        maintainer_can_modify: { type: 'boolean' },
      });
      await translating('PullRequest', () =>
        pulls.update(r, pull, {
          actor: viewerOf(request),
          title: body.title as string | undefined,
          body: body.body as string | undefined,
          base: body.base as string | undefined,
          state: body.state as 'open' | 'closed' | undefined,
          maintainer_can_modify: body.maintainer_can_modify as boolean | undefined,
        }),
      );
      return { body: await full(r, pull) };
    },
  });

  core.route({
    method: 'GET',
    path: `${PULLS}/{pull_number}/merge`,
    handler: (request) => {
      const r = repoOf(core, request);
      if (!pullOf(r, request).merged)
        throw notFound(
          'https://docs.github.com/rest/pulls/pulls#check-if-a-pull-request-has-been-merged',
        );
      return { status: 204 };
    },
  });

  core.route({
    method: 'PUT',
    path: `${PULLS}/{pull_number}/merge`,
    createsContent: true,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const pull = pullOf(r, request);
      const body = bodyOf(request, 'PullRequest', {
        commit_title: { type: 'string' },
        commit_message: { type: 'string' },
        sha: { type: 'string' },
        merge_method: { type: 'string', enum: ['merge', 'squash', 'rebase'] },
      });
      const { sha } = await translating('PullRequest', () =>
        pulls.merge(r, pull, {
          actor: viewerOf(request),
          method: body.merge_method as MergeMethod | undefined,
          sha: body.sha as string | undefined,
          commit_title: body.commit_title as string | undefined,
          commit_message: body.commit_message as string | undefined,
        }),
      );
      return { body: { sha, merged: true, message: 'Pull Request successfully merged' } };
    },
  });

  core.route({
    method: 'GET',
    path: `${PULLS}/{pull_number}/files`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const pull = pullOf(r, request);
      const path = core.repositories.pathOf(r);
      const base = pull.merged ? pull.base.sha : (r.branches[pull.base.ref] ?? pull.base.sha);
      const files = await store.changedFiles(path, base, pull.head.sha);
      const repoUrl = `${core.urls.api}/repos/${r.owner}/${r.name}`;
      return paginate(request, core, files, (f) => ({
        sha: f.sha,
        filename: f.filename,
        status: f.status,
        additions: f.additions,
        deletions: f.deletions,
        changes: f.additions + f.deletions,
        blob_url: `${core.urls.web}/${r.owner}/${r.name}/blob/${pull.head.sha}/${f.filename}`,
        raw_url: `${core.urls.web}/${r.owner}/${r.name}/raw/${pull.head.sha}/${f.filename}`,
        contents_url: `${repoUrl}/contents/${f.filename}?ref=${pull.head.sha}`,
        ...(f.previous_filename ? { previous_filename: f.previous_filename } : {}),
      }));
    },
  });

  core.route({
    method: 'GET',
    path: `${PULLS}/{pull_number}/commits`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const pull = pullOf(r, request);
      const path = core.repositories.pathOf(r);
      const base = pull.merged ? pull.base.sha : (r.branches[pull.base.ref] ?? pull.base.sha);
      const commits = await store.listCommits(path, pull.head.sha, [base], 250);
      return paginate(request, core, commits, (c) => json.commit(r, c));
    },
  });

  // ---- reviews -------------------------------------------------------------------------------

  core.route({
    method: 'GET',
    path: `${PULLS}/{pull_number}/reviews`,
    handler: (request) => {
      const r = repoOf(core, request);
      const pull = pullOf(r, request);
      const reviews = state
        .listReviews(r, pull.number)
        .filter((review) => review.state !== 'PENDING' || review.user === request.viewer);
      return paginate(request, core, reviews, (review) => json.review(review));
    },
  });

  core.route({
    method: 'POST',
    path: `${PULLS}/{pull_number}/reviews`,
    createsContent: true,
    handler: async (request) => {
      const r = repoOf(core, request);
      const pull = pullOf(r, request);
      const body = bodyOf(request, 'PullRequestReview', {
        body: { type: 'string' },
        event: { type: 'string', enum: ['APPROVE', 'REQUEST_CHANGES', 'COMMENT'] },
        commit_id: { type: 'string' },
      });
      const review = await translating('PullRequestReview', () =>
        pulls.review(r, pull, {
          actor: viewerOf(request),
          event: body.event as 'APPROVE' | 'REQUEST_CHANGES' | 'COMMENT' | undefined,
          body: body.body as string | undefined,
          commit_id: body.commit_id as string | undefined,
        }),
      );
      return { body: json.review(review) };
    },
  });

  // ---- issue comments ------------------------------------------------------------------------

  const issueOf = (r: Repository, request: ApiRequest): PullRequest => {
    const pull = state.getPullRequest(r, numberParam(request, 'issue_number'));
    if (!pull) throw notFound('https://docs.github.com/rest/issues/issues#get-an-issue');
    return pull;
  };

  core.route({
    method: 'GET',
    path: `${ISSUES}/{issue_number}/comments`,
    handler: (request) => {
      const r = repoOf(core, request);
      const pull = issueOf(r, request);
      const since = request.query.get('since');
      const comments = state
        .listIssueComments(r, pull.number)
        .filter((c) => since === null || c.updated_at >= since);
      return paginate(request, core, comments, (c) => json.issueComment(c));
    },
  });

  core.route({
    method: 'POST',
    path: `${ISSUES}/{issue_number}/comments`,
    createsContent: true,
    handler: async (request) => {
      const r = repoOf(core, request);
      const pull = issueOf(r, request);
      const body = bodyOf(request, 'IssueComment', { body: { type: 'string', required: true } });
      if (pull.locked && !core.canWrite(r, request.viewer))
        throw new HttpError(403, 'Unable to create comment because issue is locked.');
      const comment = await translating('IssueComment', () =>
        pulls.comment(r, pull, viewerOf(request), body.body as string),
      );
      return {
        status: 201,
        body: json.issueComment(comment),
        headers: {
          location: `${core.urls.api}/repos/${r.owner}/${r.name}/issues/comments/${comment.id}`,
        },
      };
    },
  });

  // ---- labels --------------------------------------------------------------------------------

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/labels`,
    handler: (request) => {
      const r = repoOf(core, request);
      return paginate(request, core, state.listLabels(r), (l) => json.label(l));
    },
  });

  core.route({
    method: 'POST',
    path: `${API}/repos/{owner}/{repo}/labels`,
    createsContent: true,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const body = bodyOf(request, 'Label', {
        name: { type: 'string', required: true },
        color: { type: 'string' },
        description: { type: 'string' },
      });
      const label = await translating('Label', () =>
        state.createLabel(r, {
          name: body.name as string,
          color: ((body.color as string | undefined) ?? 'ededed').replace(/^#/, ''),
          description: (body.description as string | undefined) ?? null,
        }),
      );
      return { status: 201, body: json.label(label) };
    },
  });

  const labelsBody = (request: ApiRequest): string[] => {
    const body = request.body;
    const names = Array.isArray(body) ? body : (body as { labels?: unknown } | undefined)?.labels;
    if (!Array.isArray(names)) {
      throw validationFailed([{ resource: 'Label', field: 'labels', code: 'missing_field' }]);
    }
    return names.map((n) => (typeof n === 'string' ? n : String((n as { name?: unknown }).name)));
  };

  const labelsOf = (r: Repository, pull: PullRequest) =>
    pull.labels.map((name) => json.label(state.ensureLabel(r, name)));

  core.route({
    method: 'GET',
    path: `${ISSUES}/{issue_number}/labels`,
    handler: (request) => {
      const r = repoOf(core, request);
      const pull = issueOf(r, request);
      return paginate(request, core, pull.labels, (name) => json.label(state.ensureLabel(r, name)));
    },
  });

  for (const method of ['POST', 'PUT'] as const) {
    core.route({
      method,
      path: `${ISSUES}/{issue_number}/labels`,
      handler: async (request) => {
        const r = writableRepoOf(core, request);
        const pull = issueOf(r, request);
        const names = labelsBody(request);
        await pulls.setLabels(r, pull, {
          actor: viewerOf(request),
          ...(method === 'POST' ? { add: names } : { replace: names }),
        });
        return { body: labelsOf(r, pull) };
      },
    });
  }

  core.route({
    method: 'DELETE',
    path: `${ISSUES}/{issue_number}/labels/{name}`,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const pull = issueOf(r, request);
      const name = request.params.name!;
      if (!pull.labels.some((l) => l.toLowerCase() === name.toLowerCase())) {
        throw new HttpError(
          404,
          'Label does not exist',
          'https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue',
        );
      }
      await pulls.setLabels(r, pull, { actor: viewerOf(request), remove: [name] });
      return { body: labelsOf(r, pull) };
    },
  });

  core.route({
    method: 'DELETE',
    path: `${ISSUES}/{issue_number}/labels`,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const pull = issueOf(r, request);
      await pulls.setLabels(r, pull, { actor: viewerOf(request), replace: [] });
      return { status: 204 };
    },
  });
}
