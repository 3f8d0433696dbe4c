// A small router over path templates in GitHub's OpenAPI style: `{name}` matches one segment,
// `{+name}` matches the rest of the path (refs and file paths contain slashes).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RateResource } from '../limits/rate-limits.js';
import type { Token } from '../state/model.js';

export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The full path, e.g. /api/v3/repos/acme/app/pulls/1. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The authenticated token, or null for anonymous requests. */
  token: Token | null;
  /** The login the request acts as, or null for anonymous requests. */
  viewer: string | null;
  requestId: string;
  /** The parsed JSON body (undefined when there is none). */
  body: unknown;
}

export interface ApiResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type ApiHandler = (request: ApiRequest) => Promise<ApiResponse | void> | ApiResponse | void;

export interface ApiRoute {
  method: string;
  /** Full path template, e.g. /api/v3/repos/{owner}/{repo}. */
  path: string;
  handler: ApiHandler;
  /** Counts against the secondary content-creation limit. */
  createsContent?: boolean;
  /** Which primary budget it uses (default core). */
  resource?: RateResource;
  /** Whether the pipeline charges one unit of the primary budget (GraphQL charges points itself). */
  charge?: boolean;
  /** The handler writes the response itself (streams); the pipeline does not. */
  raw?: boolean;
}

interface CompiledRoute {
  route: ApiRoute;
  regex: RegExp;
  names: string[];
  literalLength: number;
}

export class Router {
  private readonly byMethod = new Map<string, CompiledRoute[]>();

  add(route: ApiRoute): void {
    const names: string[] = [];
    let literalLength = 0;
    const pattern = route.path
      .split(/(\{\+?[a-z_]+\})/)
      .map((part) => {
        const param = /^\{(\+?)([a-z_]+)\}$/.exec(part);
        if (!param) {
          literalLength += part.length;
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        }
        names.push(param[2]!);
        return param[1] ? '(.+)' : '([^/]+)';
      })
      .join('');
    const list = this.byMethod.get(route.method) ?? [];
    list.push({ route, regex: new RegExp(`^${pattern}/?$`), names, literalLength });
    // More literal text first, so /git/refs/{+ref} never shadows a more specific route.
    list.sort((a, b) => b.literalLength - a.literalLength);
    this.byMethod.set(route.method, list);
  }

  match(
    method: string,
    path: string,
  ): { route: ApiRoute; params: Record<string, string> } | 'method-not-allowed' | null {
    const found = this.find(method === 'HEAD' ? 'GET' : method, path);
    if (found) return found;
    for (const other of this.byMethod.keys())
      if (other !== method && this.find(other, path)) return 'method-not-allowed';
    return null;
  }

  private find(method: string, path: string) {
    for (const compiled of this.byMethod.get(method) ?? []) {
      const m = compiled.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      compiled.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]!);
      });
      return { route: compiled.route, params };
    }
    return null;
  }
}
