// Branches, git refs, trees, commits and contents, read from and written to the bare repositories.
import { HttpError, notFound, validationFailed } from '../http/http-error.js';
import type { ApiRequest } from '../http/router.js';
import type { Repository } from '../state/model.js';
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

export function registerGitRoutes(core: SimCore): void {
  const { json, store } = core;
  const pathOf = (r: Repository) => core.repositories.pathOf(r);

  /** A branch, tag or sha → commit sha (404 when it names nothing, like GitHub). */
  const resolve = async (r: Repository, ref: string | null): Promise<string> => {
    const rev = ref ?? r.default_branch;
    const sha = r.branches[rev] ?? (await store.resolveCommit(pathOf(r), rev));
    if (!sha)
      throw new HttpError(
        404,
        `No commit found for the ref ${rev}`,
        'https://docs.github.com/rest/repos/contents#get-repository-content',
      );
    return sha;
  };

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/branches`,
    handler: (request) => {
      const r = repoOf(core, request);
      const names = Object.keys(r.branches).sort();
      return paginate(request, core, names, (name) => json.shortBranch(r, name, r.branches[name]!));
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/branches/{+branch}`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const sha = r.branches[request.params.branch!];
      if (!sha)
        throw new HttpError(
          404,
          'Branch not found',
          'https://docs.github.com/rest/branches/branches#get-a-branch',
        );
      const commit = await store.readCommit(pathOf(r), sha);
      return { body: json.branch(r, request.params.branch!, commit, sha) };
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/commits/{ref}`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const sha = await resolve(r, request.params.ref!).catch(() => {
        throw validationFailed([], undefined, `No commit found for SHA: ${request.params.ref}`);
      });
      return { body: json.commit(r, await store.readCommit(pathOf(r), sha)) };
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/git/commits/{commit_sha}`,
    handler: async (request) => {
      const r = repoOf(core, request);
      if ((await store.objectType(pathOf(r), request.params.commit_sha!)) !== 'commit')
        throw notFound();
      return {
        body: json.gitCommit(r, await store.readCommit(pathOf(r), request.params.commit_sha!)),
      };
    },
  });

  // ---- refs (only branches: refs/heads/*) ----------------------------------------------------

  const branchOfRef = (ref: string): string | null => {
    const name = ref.replace(/^refs\//, '');
    return name.startsWith('heads/') ? name.slice('heads/'.length) : null;
  };

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/git/ref/{+ref}`,
    handler: (request) => {
      const r = repoOf(core, request);
      const branch = branchOfRef(request.params.ref!);
      const sha = branch === null ? undefined : r.branches[branch];
      if (!sha) throw notFound('https://docs.github.com/rest/git/refs#get-a-reference');
      return { body: json.gitRef(r, `refs/heads/${branch}`, sha) };
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/git/matching-refs/{+ref}`,
    handler: (request) => {
      const r = repoOf(core, request);
      const prefix = `refs/${request.params.ref!}`;
      const refs = Object.keys(r.branches)
        .sort()
        .map((b) => `refs/heads/${b}`)
        .filter((ref) => ref.startsWith(prefix));
      return {
        body: refs.map((ref) => json.gitRef(r, ref, r.branches[ref.slice('refs/heads/'.length)]!)),
      };
    },
  });

  core.route({
    method: 'POST',
    path: `${API}/repos/{owner}/{repo}/git/refs`,
    createsContent: true,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const body = bodyOf(request, 'Reference', {
        ref: { type: 'string', required: true },
        sha: { type: 'string', required: true },
      });
      const ref = body.ref as string;
      if (!ref.startsWith('refs/') || ref.split('/').length < 3) {
        throw validationFailed(
          [],
          undefined,
          "Reference name must start with 'refs/' and have at least two slashes.",
        );
      }
      const branch = branchOfRef(ref);
      if (branch === null)
        throw validationFailed([], undefined, 'The simulator only supports refs/heads/*');
      await translating('Reference', () =>
        core.repositories.setBranch(r, branch, body.sha as string, viewerOf(request), {
          create: true,
          force: true,
        }),
      );
      return { status: 201, body: json.gitRef(r, ref, body.sha as string) };
    },
  });

  core.route({
    method: 'PATCH',
    path: `${API}/repos/{owner}/{repo}/git/refs/{+ref}`,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const body = bodyOf(request, 'Reference', {
        sha: { type: 'string', required: true },
        force: { type: 'boolean' },
      });
      const branch = branchOfRef(request.params.ref!);
      if (branch === null || r.branches[branch] === undefined)
        throw validationFailed([], undefined, 'Reference does not exist');
      await translating('Reference', () =>
        core.repositories.setBranch(r, branch, body.sha as string, viewerOf(request), {
          force: body.force === true,
        }),
      );
      return { body: json.gitRef(r, `refs/heads/${branch}`, body.sha as string) };
    },
  });

  core.route({
    method: 'DELETE',
    path: `${API}/repos/{owner}/{repo}/git/refs/{+ref}`,
    handler: async (request) => {
      const r = writableRepoOf(core, request);
      const branch = branchOfRef(request.params.ref!);
      if (branch === null || r.branches[branch] === undefined)
        throw validationFailed([], undefined, 'Reference does not exist');
      await translating('Reference', () =>
        core.repositories.deleteBranch(r, branch, viewerOf(request)),
      );
      return { status: 204 };
    },
  });

  // ---- trees and contents --------------------------------------------------------------------

  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/git/trees/{tree_sha}`,
    handler: async (request) => {
      const r = repoOf(core, request);
      const path = pathOf(r);
      const rev = r.branches[request.params.tree_sha!] ?? request.params.tree_sha!;
      const recursive =
        request.query.has('recursive') && !['0', 'false'].includes(request.query.get('recursive')!);
      const listed = await store.listTree(path, rev, recursive);
      if (!listed) throw notFound('https://docs.github.com/rest/git/trees#get-a-tree');
      const { tree, entries } = listed;
      const repoUrl = `${core.urls.api}/repos/${r.owner}/${r.name}`;
      return {
        body: {
          sha: tree,
          url: `${repoUrl}/git/trees/${tree}`,
          tree: entries.map((e) => ({
            path: e.path,
            mode: e.mode,
            type: e.type,
            sha: e.sha,
            ...(e.type === 'blob' ? { size: e.size ?? 0 } : {}),
            url: `${repoUrl}/git/${e.type === 'tree' ? 'trees' : 'blobs'}/${e.sha}`,
          })),
          truncated: false,
        },
      };
    },
  });

  const contents = async (request: ApiRequest) => {
    const r = repoOf(core, request);
    const path = pathOf(r);
    const refParam = request.query.get('ref');
    const sha = await resolve(r, refParam);
    const filePath = (request.params.path ?? '').replace(/^\/+|\/+$/g, '');
    const ref = refParam ?? r.default_branch;
    const repoUrl = `${core.urls.api}/repos/${r.owner}/${r.name}`;
    const html = `${core.urls.web}/${r.owner}/${r.name}`;
    const entryJson = (e: { path: string; type: string; sha: string; size: number | null }) => {
      const type = e.type === 'tree' ? 'dir' : e.type === 'commit' ? 'submodule' : 'file';
      const self = `${repoUrl}/contents/${e.path}?ref=${encodeURIComponent(ref)}`;
      const gitUrl = `${repoUrl}/git/${type === 'dir' ? 'trees' : 'blobs'}/${e.sha}`;
      const htmlUrl = `${html}/${type === 'dir' ? 'tree' : 'blob'}/${ref}/${e.path}`;
      return {
        type,
        size: e.size ?? 0,
        name: e.path.split('/').pop()!,
        path: e.path,
        sha: e.sha,
        url: self,
        git_url: gitUrl,
        html_url: htmlUrl,
        download_url:
          type === 'file' ? `${core.urls.web}/${r.owner}/${r.name}/raw/${ref}/${e.path}` : null,
        _links: { self, git: gitUrl, html: htmlUrl },
      };
    };
    if (filePath === '') {
      const entries = await store.lsTree(path, sha, false);
      return { body: entries.map(entryJson) };
    }
    const parent = filePath.includes('/') ? filePath.slice(0, filePath.lastIndexOf('/')) : '';
    const siblings = await store
      .lsTree(path, parent ? `${sha}:${parent}` : sha, false)
      .catch(() => []);
    const entry = siblings.find((e) => e.path === filePath || e.path === filePath.split('/').pop());
    if (!entry)
      throw notFound('https://docs.github.com/rest/repos/contents#get-repository-content');
    const full = { ...entry, path: filePath };
    if (entry.type === 'tree') {
      const children = await store.lsTree(path, `${sha}:${filePath}`, false);
      return { body: children.map((c) => entryJson({ ...c, path: `${filePath}/${c.path}` })) };
    }
    const content = await store.readBlob(path, entry.sha);
    return {
      body: {
        ...entryJson(full),
        content: content.toString('base64').replace(/.{60}/g, '$&\n'),
        encoding: 'base64',
      },
    };
  };

  core.route({ method: 'GET', path: `${API}/repos/{owner}/{repo}/contents`, handler: contents });
  core.route({
    method: 'GET',
    path: `${API}/repos/{owner}/{repo}/contents/{+path}`,
    handler: contents,
  });
}
