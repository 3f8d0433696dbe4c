// Shared pieces of the REST handlers: repository lookup with GitHub's visibility rules,
// pagination with Link headers, and body validation with GitHub's 422 shape.
import type { ApiRequest, ApiResponse } from '../http/router.js';
import { HttpError, notFound, validationFailed } from '../http/http-error.js';
import type { Repository } from '../state/model.js';
import { StateError } from '../state/sim-state.js';
import type { SimCore } from '../sim-core.js';

export const API = '/api/v3';

/** The repository named by {owner}/{repo}; 404 when unknown or not visible to the caller. */
export function repoOf(core: SimCore, request: ApiRequest): Repository {
  const repository = core.state.getRepository(request.params.owner!, request.params.repo!);
  if (!repository || !core.canRead(repository, request.viewer)) throw notFound();
  return repository;
}

/** Like repoOf, and the caller must be able to push (GitHub: 404 for private, 403 for public). */
export function writableRepoOf(core: SimCore, request: ApiRequest): Repository {
  const repository = repoOf(core, request);
  if (!core.canWrite(repository, request.viewer)) {
    if (request.viewer === null) throw new HttpError(401, 'Requires authentication');
    throw new HttpError(
      403,
      'Must have admin rights to Repository.',
      'https://docs.github.com/rest',
    );
  }
  return repository;
}

export function viewerOf(request: ApiRequest): string {
  if (request.viewer === null) throw new HttpError(401, 'Requires authentication');
  return request.viewer;
}

/** Slices `items` by page/per_page and adds GitHub's Link header. */
export function paginate<T>(
  request: ApiRequest,
  core: SimCore,
  items: T[],
  render: (item: T) => unknown,
): ApiResponse {
  const perPage = Math.min(100, Math.max(1, Number(request.query.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Number(request.query.get('page') ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return { body: slice.map(render), headers: linkHeader(request, core, page, last) };
}

export function linkHeader(
  request: ApiRequest,
  core: SimCore,
  page: number,
  last: number,
): Record<string, string> {
  if (last <= 1) return {};
  const url = (p: number) => {
    const query = new URLSearchParams(request.query);
    query.set('page', String(p));
    return `<${core.urls.web}${request.path}?${query}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${url(page - 1)}; rel="prev"`);
  if (page < last) links.push(`${url(page + 1)}; rel="next"`);
  if (page < last) links.push(`${url(last)}; rel="last"`);
  if (page > 1) links.push(`${url(1)}; rel="first"`);
  return links.length ? { link: links.join(', ') } : {};
}

type FieldType = 'string' | 'boolean' | 'number' | 'string[]' | 'object';

/** Reads a JSON object body and checks field types; GitHub answers 422 for wrong types and missing fields. */
export function bodyOf(
  request: ApiRequest,
  resource: string,
  fields: Record<string, { type: FieldType; required?: boolean; enum?: readonly string[] }>,
): Record<string, unknown> {
  const body = request.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'Problems parsing JSON');
  }
  const record = body as Record<string, unknown>;
  for (const [field, spec] of Object.entries(fields)) {
    const value = record[field];
    if (value === undefined || value === null) {
      if (spec.required) throw validationFailed([{ resource, field, code: 'missing_field' }]);
      continue;
    }
    const ok =
      spec.type === 'string[]'
        ? Array.isArray(value) && value.every((v) => typeof v === 'string')
        : spec.type === 'object'
          ? typeof value === 'object'
          : typeof value === spec.type;
    if (!ok || (spec.enum && !spec.enum.includes(value as string))) {
      throw validationFailed(
        [`${String(value)} is not a valid value for ${field}`],
        'https://docs.github.com/rest',
        `Invalid request.\n\nFor '${field}', ${JSON.stringify(value)} is not ${spec.enum ? `one of ${spec.enum.join(', ')}` : `a ${spec.type}`}.`,
      );
    }
  }
  return record;
}

/** Turns an operation's refusal into GitHub's answer. */
export function asHttpError(error: unknown, resource: string): unknown {
  if (!(error instanceof StateError)) return error;
  if (error.status === 422) {
    const [code, field] = (error.code ?? 'custom').split(':') as [string, string | undefined];
    if (code === 'invalid' && field) {
      return validationFailed([{ resource, field, code: 'invalid' }]);
    }
    // Git data answers carry the reason as the message itself; reviews as a list of strings.
    if (code === 'message')
      return new HttpError(422, error.message, 'https://docs.github.com/rest/git/refs');
    if (code === 'strings')
      return validationFailed([error.message], undefined, 'Unprocessable Entity');
    if (code === 'already_exists')
      return validationFailed(
        [{ resource, code: 'already_exists', message: error.message }],
        undefined,
        error.message,
      );
    return validationFailed([{ resource, code: 'custom', message: error.message }]);
  }
  if (error.status === 404) return notFound();
  return new HttpError(error.status, error.message);
}

export async function translating<T>(resource: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asHttpError(error, resource);
  }
}

export function numberParam(request: ApiRequest, name: string): number {
  const value = Number(request.params[name]);
  if (!Number.isInteger(value) || value < 1) throw notFound();
  return value;
}
