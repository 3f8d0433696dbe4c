// Accounts, repositories, hooks and rate_limit.
import { HttpError, notFound } from '../http/http-error.js';
import { budgetKey } from '../limits/rate-limits.js';
import type { Hook, Repository } from '../state/model.js';
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

export function registerRepositoryRoutes(core: SimCore): void {
  const { state, json } = core;

  core.route({
    method: 'GET',
    path: `${API}/rate_limit`,
    charge: false,
    handler: (request) => {
      const key = budgetKey(request.token, request.req.socket.remoteAddress ?? '');
      const limits = core.limitsOf(request.token);
      const snap = (resource: 'core' | 'search' | 'graphql' | 'code_search') => {
        const { resource: _r, ...rest } = core.limits.snapshot(key, limits, resource);
        return rest;
      };
      const resources = {
        core: snap('core'),
        search: snap('search'),
        graphql: snap('graphql'),
        code_search: snap('code_search'),
      };
      return { body: { resources, rate: resources.core } };
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/user`,
    handler: (request) => ({ body: json.account(state.requireAccount(viewerOf(request))) }),
  });

  core.route({
    method: 'GET',
    path: `${API}/users/{username}`,
    handler: (request) => {
      const account = state.getAccount(request.params.username!);
      if (!account) throw notFound();
      return { body: json.account(account) };
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/orgs/{org}`,
    handler: (request) => {
      const account = state.getAccount(request.params.org!);
      if (!account || account.type !== 'Organization') throw notFound();
      return { body: json.account(account) };
    },
  });

  const sortRepos = (repos: Repository[], sort: string | null, direction: string | null) => {
    const key = sort ?? 'full_name';
    const desc = direction ? direction === 'desc' : key !== 'full_name';
    const value = (r: Repository) =>
      key === 'created'
        ? r.created_at
        : key === 'updated'
          ? r.updated_at
          : key === 'pushed'
            ? r.pushed_at
            : `${r.owner}/${r.name}`.toLowerCase();
    return [...repos].sort(
      (a, b) =>
        (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : a.id - b.id) * (desc ? -1 : 1),
    );
  };

  const typeFilter = (type: string | null, viewer: string | null) => (r: Repository) => {
    if (!core.canRead(r, viewer)) return false;
    switch (type) {
      case 'public':
        return r.visibility === 'public';
      case 'private':
        return r.visibility !== 'public';
      case 'forks':
        return r.fork;
      case 'sources':
        return !r.fork;
      default:
        return true;
    }
  };

  core.route({
    method: 'GET',
    path: `${API}/orgs/{org}/repos`,
    handler: (request) => {
      const org = state.getAccount(request.params.org!);
      if (!org || org.type !== 'Organization') throw notFound();
      const repos = state
        .listRepositories()
        .filter((r) => r.owner === org.login)
        .filter(typeFilter(request.query.get('type'), request.viewer));
      const sorted = sortRepos(
        repos,
        request.query.get('sort') ?? 'created',
        request.query.get('direction'),
      );
      return paginate(request, core, sorted, (r) =>
        json.repository(r, 'minimal', request.viewer ?? undefined),
      );
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/users/{username}/repos`,
    handler: (request) => {
      const user = state.getAccount(request.params.username!);
      if (!user) throw notFound();
      const repos = state
        .listRepositories()
        .filter((r) => r.owner === user.login)
        .filter(typeFilter(request.query.get('type'), request.viewer));
      return paginate(
        request,
        core,
        sortRepos(repos, request.query.get('sort'), request.query.get('direction')),
        (r) => json.repository(r, 'minimal', request.viewer ?? undefined),
      );
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/user/repos`,
    handler: (request) => {
      const viewer = viewerOf(request);
      const repos = state.listRepositories().filter((r) => core.canWrite(r, viewer));
      return paginate(
        request,
        core,
        sortRepos(repos, request.query.get('sort'), request.query.get('direction')),
        (r) => json.repository(r, 'full', viewer),
      );
    },
  });

  const createRepo =
    (owner: string) =>
    async (request: Parameters<Parameters<typeof core.route>[0]['handler']>[0]) => {
      const viewer = viewerOf(request);
      const body = bodyOf(request, 'Repository', {
        name: { type: 'string', required: true },
        description: { type: 'string' },
        private: { type: 'boolean' },
        visibility: { type: 'string', enum: ['public', 'private', 'internal'] },
        auto_init: { type: 'boolean' },
      });
      const ownerAccount = state.getAccount(owner);
      if (!ownerAccount) throw notFound();
      if (
        ownerAccount.type === 'Organization' &&
        !state.isMember(ownerAccount, viewer) &&
        !state.getAccount(viewer)?.site_admin
      ) {
        throw new HttpError(
          403,
          'You need admin access to the organization before adding a repository to it.',
        );
      }
      const repository = await translating('Repository', () =>
        core.repositories.create({
          owner: ownerAccount.login,
          name: body.name as string,
          actor: viewer,
          description: (body.description as string | undefined) ?? null,
          visibility:
            (body.visibility as Repository['visibility'] | undefined) ??
            (body.private ? 'private' : 'public'),
          files: body.auto_init ? { 'README.md': `# ${body.name as string}\n` } : undefined,
        }),
      );
      return { status: 201, body: json.repository(repository, 'full', viewer) };
    };

  core.route({
    method: 'POST',
    path: `${API}/orgs/{org}/repos`,
    createsContent: true,
    handler: (r) => createRepo(r.params.org!)(r),
  });
  core.route({
    method: 'POST',
    path: `${API}/user/repos`,
    createsContent: true,
    handler: (r) => createRepo(viewerOf(r))(r),
  });

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}`,
    handler: (request) => {
      const repository = repoOf(core, request);
      return { body: json.repository(repository, 'full', request.viewer ?? undefined) };
    },
  });

  core.route({
    method: 'PATCH',
    path: `${API}/repos/{owner}/{repo}`,
    handler: (request) => {
      const repository = writableRepoOf(core, request);
      const body = bodyOf(request, 'Repository', {
        description: { type: 'string' },
        archived: { type: 'boolean' },
        default_branch: { type: 'string' },
        visibility: { type: 'string', enum: ['public', 'private', 'internal'] },
      });
      if (repository.archived && body.archived !== false) {
        throw new HttpError(403, 'Repository was archived so is read-only.');
      }
      if (body.default_branch !== undefined) {
        if (repository.branches[body.default_branch as string] === undefined) {
          throw new HttpError(422, 'Validation Failed', undefined, [
            {
              resource: 'Repository',
              field: 'default_branch',
              code: 'invalid',
              message: `The branch ${String(body.default_branch)} was not found. Please push that ref first or create it via the Git Data API.`,
            },
          ]);
        }
        repository.default_branch = body.default_branch as string;
      }
      if (body.description !== undefined) repository.description = body.description as string;
      if (body.visibility !== undefined)
        repository.visibility = body.visibility as Repository['visibility'];
      repository.updated_at = new Date().toISOString();
      state.touch();
      if (body.archived !== undefined)
        core.repositories.setArchived(repository, body.archived as boolean, viewerOf(request));
      return { body: json.repository(repository, 'full', request.viewer ?? undefined) };
    },
  });

  // ---- forks ---------------------------------------------------------------------------------

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/forks`,
    handler: (request) => {
      const repository = repoOf(core, request);
      const forks = state
        .listRepositories()
        .filter((r) => r.parent_id === repository.id && core.canRead(r, request.viewer));
      return paginate(
        request,
        core,
        sortRepos(forks, request.query.get('sort') ?? 'created', null),
        (r) => json.repository(r, 'minimal', request.viewer ?? undefined),
      );
    },
  });

  // GitHub answers 202 Accepted: the fork is made in the background. An account (the caller,
  // or `organization`) has at most one fork of a network; asking again answers that one.
  core.route({
    method: 'POST',
    path: `${API}/repos/{owner}/{repo}/forks`,
    createsContent: true,
    handler: async (request) => {
      const viewer = viewerOf(request);
      const repository = repoOf(core, request);
      const body = bodyOf(request, 'Fork', {
        organization: { type: 'string' },
        name: { type: 'string' },
        default_branch_only: { type: 'boolean' },
      });
      let owner = viewer;
      if (body.organization !== undefined) {
        const org = state.getAccount(body.organization as string);
        if (!org || org.type !== 'Organization') {
          throw new HttpError(422, 'Validation Failed', undefined, [
            { resource: 'Fork', field: 'organization', code: 'invalid' },
          ]);
        }
        if (!state.isMember(org, viewer) && !state.getAccount(viewer)?.site_admin) {
          throw new HttpError(403, 'You need admin access to the organization to fork into it.');
        }
        owner = org.login;
      }
      const known = new Set(state.networkOf(repository).map((r) => r.id));
      const fork = await translating('Fork', () =>
        core.repositories.fork(repository, {
          owner,
          actor: viewer,
          ...(body.name === undefined ? {} : { name: body.name as string }),
          defaultBranchOnly: body.default_branch_only === true,
        }),
      );
      if (!known.has(fork.id)) core.forkAccepted(fork);
      return { status: 202, body: json.repository(fork, 'full', viewer) };
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/topics`,
    handler: (request) => ({ body: { names: repoOf(core, request).topics } }),
  });

  // ---- hooks (stored here; delivered by the webhooks plugin) ---------------------------------

  const hookBody = (request: Parameters<typeof bodyOf>[0]) =>
    bodyOf(request, 'Hook', {
      config: { type: 'object' },
      events: { type: 'string[]' },
      active: { type: 'boolean' },
    });

  const hookRoutes = (
    scope: Hook['scope'],
    base: string,
    ownerIdOf: (request: Parameters<typeof repoOf>[1]) => number,
  ) => {
    const requireHook = (request: Parameters<typeof repoOf>[1]) => {
      const hook = state.getHook(Number(request.params.hook_id));
      if (!hook || hook.scope !== scope || hook.owner_id !== ownerIdOf(request)) throw notFound();
      return hook;
    };
    core.route({
      method: 'GET',
      path: `${base}/hooks`,
      handler: (request) =>
        paginate(request, core, state.listHooks(scope, ownerIdOf(request)), (h) => json.hook(h)),
    });
    core.route({
      method: 'POST',
      path: `${base}/hooks`,
      createsContent: true,
      handler: (request) => {
        const body = hookBody(request);
        const config = (body.config ?? {}) as Record<string, unknown>;
        if (typeof config.url !== 'string') {
          throw new HttpError(422, 'Validation Failed', undefined, [
            { resource: 'Hook', code: 'custom', message: 'Config must contain a url' },
          ]);
        }
        const hook = core.createHook(
          {
            scope,
            owner_id: ownerIdOf(request),
            url: config.url,
            secret: typeof config.secret === 'string' ? config.secret : null,
            content_type: config.content_type === 'form' ? 'form' : 'json',
            events: (body.events as string[] | undefined) ?? ['push'],
            active: (body.active as boolean | undefined) ?? true,
          },
          viewerOf(request),
        );
        return { status: 201, body: json.hook(hook) };
      },
    });
    core.route({
      method: 'GET',
      path: `${base}/hooks/{hook_id}`,
      handler: (request) => ({ body: json.hook(requireHook(request)) }),
    });
    core.route({
      method: 'PATCH',
      path: `${base}/hooks/{hook_id}`,
      handler: (request) => {
        const hook = requireHook(request);
        const body = hookBody(request);
        const config = (body.config ?? {}) as Record<string, unknown>;
        const updated = state.updateHook(hook.id, {
          ...(typeof config.url === 'string' ? { url: config.url } : {}),
          ...(typeof config.secret === 'string' ? { secret: config.secret } : {}),
          ...(body.events ? { events: body.events as string[] } : {}),
          ...(body.active !== undefined ? { active: body.active as boolean } : {}),
        });
        return { body: json.hook(updated) };
      },
    });
    core.route({
      method: 'DELETE',
      path: `${base}/hooks/{hook_id}`,
      handler: (request) => {
        state.deleteHook(requireHook(request).id);
        return { status: 204 };
      },
    });
  };
  hookRoutes(
    'repository',
    `${API}/repos/{owner}/{repo}`,
    (request) => writableRepoOf(core, request).id,
  );
  hookRoutes('organization', `${API}/orgs/{org}`, (request) => {
    const org = state.getAccount(request.params.org!);
    const viewer = viewerOf(request);
    if (
      !org ||
      org.type !== 'Organization' ||
      !(state.isMember(org, viewer) || state.getAccount(viewer)?.site_admin)
    )
      throw notFound();
    return org.id;
  });
}
