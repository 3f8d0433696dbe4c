// Repository and code search with GitHub's qualifiers.
import { validationFailed } from '../http/http-error.js';
import type { ApiRequest } from '../http/router.js';
import type { Repository } from '../state/model.js';
import type { SimCore } from '../sim-core.js';
import { API, linkHeader } from './rest-helpers.js';

export interface SearchQuery {
  terms: string[];
  qualifiers: { key: string; value: string; negated: boolean }[];
}

/** Splits a GitHub search query into free-text terms and `key:value` qualifiers (quotes allowed). */
export function parseSearchQuery(q: string): SearchQuery {
  const query: SearchQuery = { terms: [], qualifiers: [] };
  const tokens = q.match(/-?[A-Za-z_]+:"[^"]*"|"[^"]*"|\S+/g) ?? [];
  for (const token of tokens) {
    const m = /^(-?)([A-Za-z_]+):(.*)$/.exec(token);
    if (m && m[3] !== '') {
      query.qualifiers.push({
        key: m[2]!.toLowerCase(),
        value: m[3]!.replace(/^"|"$/g, ''),
        negated: m[1] === '-',
      });
    } else if (token !== 'AND') {
      query.terms.push(token.replace(/^"|"$/g, '').toLowerCase());
    }
  }
  return query;
}

const EXTENSIONS: Record<string, string[]> = {
  typescript: ['ts', 'tsx', 'mts', 'cts'],
  javascript: ['js', 'jsx', 'mjs', 'cjs'],
  go: ['go'],
  python: ['py'],
  json: ['json'],
  markdown: ['md', 'markdown'],
  yaml: ['yml', 'yaml'],
};

function languageOfPath(path: string): string | null {
  const ext = path.split('.').pop()!.toLowerCase();
  for (const [language, extensions] of Object.entries(EXTENSIONS))
    if (extensions.includes(ext)) return language;
  return null;
}

/** Glob (`*`, `?`) or plain text as a case-insensitive whole-string matcher. */
function globMatcher(pattern: string): (text: string) => boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return (text) => regex.test(text);
}

const bool = (value: string) => value.toLowerCase() === 'true';

/** Whether a repository passes the repository-level qualifiers shared by both searches. */
function repoMatches(r: Repository, q: SearchQuery, forCode: boolean): boolean {
  let forkSeen = false;
  for (const { key, value, negated } of q.qualifiers) {
    let ok = true;
    switch (key) {
      case 'repo':
        ok = `${r.owner}/${r.name}`.toLowerCase() === value.toLowerCase();
        break;
      case 'org':
      case 'user':
        ok = r.owner.toLowerCase() === value.toLowerCase();
        break;
      case 'archived':
        ok = r.archived === bool(value);
        break;
      case 'fork':
        forkSeen = true;
        ok = value === 'only' ? r.fork : bool(value) ? true : !r.fork;
        break;
      case 'is':
        ok =
          value === 'public'
            ? r.visibility === 'public'
            : value === 'private'
              ? r.visibility !== 'public'
              : value === 'archived'
                ? r.archived
                : true;
        break;
      case 'topic':
        ok = r.topics.includes(value.toLowerCase());
        break;
      case 'language':
        if (!forCode) ok = (r.language ?? '').toLowerCase() === value.toLowerCase();
        break;
      default:
        break;
    }
    if (ok === negated) return false;
  }
  // Forks are left out unless asked for, as in GitHub's search.
  return forkSeen || !r.fork;
}

export function registerSearchRoutes(core: SimCore): void {
  const { json, state } = core;

  const pageOf = (request: ApiRequest) => {
    const perPage = Math.min(100, Math.max(1, Number(request.query.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(request.query.get('page') ?? 1) || 1);
    return { perPage, page };
  };

  const queryOf = (request: ApiRequest) => {
    const q = request.query.get('q');
    if (!q) throw validationFailed([{ resource: 'Search', field: 'q', code: 'missing' }]);
    return parseSearchQuery(q);
  };

  core.route({
    method: 'GET',
    path: `${API}/search/repositories`,
    resource: 'search',
    handler: (request) => {
      const q = queryOf(request);
      const inName = q.qualifiers.filter((x) => x.key === 'in').map((x) => x.value);
      const matches = state.listRepositories().filter((r) => {
        if (!core.canRead(r, request.viewer) || !repoMatches(r, q, false)) return false;
        const text = [
          inName.length === 0 || inName.includes('name') ? r.name : '',
          inName.length === 0 || inName.includes('description') ? (r.description ?? '') : '',
          inName.includes('topics') ? r.topics.join(' ') : '',
        ]
          .join(' ')
          .toLowerCase();
        return q.terms.every((t) => text.includes(t));
      });
      const { perPage, page } = pageOf(request);
      const capped = matches.slice(0, 1000);
      return {
        body: {
          total_count: matches.length,
          incomplete_results: false,
          items: capped
            .slice((page - 1) * perPage, page * perPage)
            .map((r) => json.repository(r, 'search')),
        },
        headers: linkHeader(request, core, page, Math.max(1, Math.ceil(capped.length / perPage))),
      };
    },
  });

  core.route({
    method: 'GET',
    path: `${API}/search/code`,
    resource: 'code_search',
    handler: async (request) => {
      const q = queryOf(request);
      const fileFilters = q.qualifiers.filter((x) =>
        ['filename', 'path', 'language', 'extension', 'in'].includes(x.key),
      );
      const inPath = fileFilters.some((x) => x.key === 'in' && x.value === 'path');
      const repos = state
        .listRepositories()
        .filter((r) => core.canRead(r, request.viewer) && repoMatches(r, q, true));
      const items: { repository: Repository; path: string; sha: string; size: number }[] = [];
      for (const r of repos) {
        const head = r.branches[r.default_branch];
        if (!head) continue;
        const files = await core.codeIndex.filesAt(core.repositories.pathOf(r), head);
        for (const file of files) {
          const name = file.path.split('/').pop()!;
          const ok = fileFilters.every(({ key, value, negated }) => {
            let hit: boolean;
            if (key === 'filename')
              hit = value.includes('/')
                ? globMatcher(`*${value}`)(file.path)
                : globMatcher(value)(name);
            else if (key === 'path') {
              const prefix = value.replace(/^\/+/, '');
              hit = prefix === '' || globMatcher(`${prefix.replace(/\/+$/, '')}*`)(file.path);
            } else if (key === 'language') hit = languageOfPath(file.path) === value.toLowerCase();
            else if (key === 'extension')
              hit = name.toLowerCase().endsWith(`.${value.toLowerCase()}`);
            else hit = true;
            return hit !== negated;
          });
          if (!ok) continue;
          const haystack = `${inPath ? file.path : ''}\n${file.content ?? ''}`.toLowerCase();
          if (
            q.terms.length > 0 &&
            (file.content === null || !q.terms.every((t) => haystack.includes(t)))
          )
            continue;
          items.push({ repository: r, path: file.path, sha: file.sha, size: file.size });
        }
      }
      const { perPage, page } = pageOf(request);
      const capped = items.slice(0, 1000);
      return {
        body: {
          total_count: items.length,
          incomplete_results: false,
          items: capped
            .slice((page - 1) * perPage, page * perPage)
            .map(({ repository: r, path, sha }) => {
              const repoUrl = `${core.urls.api}/repos/${r.owner}/${r.name}`;
              const head = r.branches[r.default_branch]!;
              return {
                name: path.split('/').pop()!,
                path,
                sha,
                url: `${repoUrl}/contents/${path}?ref=${head}`,
                git_url: `${repoUrl}/git/blobs/${sha}`,
                html_url: `${core.urls.web}/${r.owner}/${r.name}/blob/${head}/${path}`,
                repository: json.repository(r, 'minimal'),
                score: 1,
              };
            }),
        },
        headers: linkHeader(request, core, page, Math.max(1, Math.ceil(capped.length / perPage))),
      };
    },
  });
}
