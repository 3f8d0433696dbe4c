// Git smart HTTP with GitHub's authentication rules: anonymous clones of public repositories, a
// 401 challenge otherwise (git then sends the URL's credentials), write access for pushes, and
// read-only archived repositories. The smart protocol's requests go straight to
// `git upload-pack` / `git receive-pack --stateless-rpc` (what `git http-backend` would run, one
// process fewer each); the dumb paths go through http-backend (CGI). After a push the state
// catches up with the refs before the response ends, so `git push` returning means the API (and
// the change feed) already show it.
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Repository, Token } from '../state/model.js';
import type { SimCore } from '../sim-core.js';
import { gitEnv, gitPool } from './git.js';
import { pkt, pushedBranches, receivePackInNode, uploadPackInNode } from './smart-in-node.js';

const HTTP_BACKEND = process.env.GIT_HTTP_BACKEND ?? '/usr/lib/git-core/git-http-backend';

/** Matches /OWNER/NAME(.git)/SERVICE-PATH. */
const GIT_PATH =
  /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.+)$/;

export function isGitRequest(path: string): boolean {
  return GIT_PATH.test(path);
}

function plain(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${message}\n`);
}

/** Handles one git request; resolves with the HTTP status once the response has ended. */
export async function serveGit(
  core: SimCore,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: string,
  token: Token | null | 'invalid',
): Promise<number> {
  const match = GIT_PATH.exec(path)!;
  const [, owner, name, service] = match as unknown as [string, string, string, string];
  const isPush =
    service === 'git-receive-pack' ||
    (service === 'info/refs' && /(^|&)service=git-receive-pack(&|$)/.test(query));
  const challenge = { 'www-authenticate': 'Basic realm="GitHub"' };

  if (token === 'invalid') {
    plain(
      res,
      401,
      'Invalid username or token. Password authentication is not supported for Git operations.',
      challenge,
    );
    return 401;
  }
  const repository: Repository | undefined = core.state.getRepository(owner, name);
  const login = token?.login ?? null;
  if (!repository || !core.canRead(repository, login)) {
    if (token === null) {
      plain(res, 401, 'Authentication required', challenge);
      return 401;
    }
    plain(res, 404, 'Repository not found.');
    return 404;
  }
  if (isPush) {
    if (token === null) {
      plain(res, 401, 'Authentication required', challenge);
      return 401;
    }
    if (!core.canWrite(repository, login)) {
      plain(
        res,
        403,
        `Permission to ${repository.owner}/${repository.name}.git denied to ${login}.`,
      );
      return 403;
    }
    if (repository.archived) {
      plain(res, 403, 'This repository was archived so it is read-only.');
      return 403;
    }
  }

  const gitDir = core.repositories.pathOf(repository);
  const smart = smartService(req.method ?? 'GET', service, query);
  if (smart !== null) return serveSmart(core, req, res, repository, login, gitDir, smart);
  const relative = gitDir.slice(join(core.store.root, 'repos').length);
  const env = gitEnv({
    GIT_PROJECT_ROOT: join(core.store.root, 'repos'),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `${relative}/${service}`,
    QUERY_STRING: query,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: login ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
    // http-backend inflates gzip request bodies itself when told the encoding.
    ...(req.headers['content-encoding']
      ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }
      : {}),
    ...(req.headers['git-protocol']
      ? { HTTP_GIT_PROTOCOL: String(req.headers['git-protocol']) }
      : {}),
  });

  const child = spawn(HTTP_BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(child.stdin);
  child.stdin.on('error', () => {});
  const stderr: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c));

  return new Promise<number>((resolve) => {
    let headerBuffer = Buffer.alloc(0);
    let headersSent = false;
    let status = 200;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      headerBuffer = Buffer.concat([headerBuffer, chunk]);
      const end = findHeaderEnd(headerBuffer);
      if (!end) return;
      const headers: Record<string, string> = {};
      for (const line of headerBuffer.subarray(0, end.index).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const key = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (key === 'status') status = Number(value.split(' ')[0]);
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      const rest = headerBuffer.subarray(end.index + end.length);
      if (rest.length) res.write(rest);
    });
    child.on('error', (error) => {
      if (!headersSent) plain(res, 500, `git http-backend failed: ${error.message}`);
      else res.destroy(error);
      resolve(500);
    });
    child.on('close', async (code) => {
      if (!headersSent) {
        plain(
          res,
          500,
          `git http-backend exited with ${code}: ${Buffer.concat(stderr).toString()}`,
        );
        resolve(500);
        return;
      }
      if (service === 'git-receive-pack') {
        try {
          await core.repositories.refreshFromDisk(repository, login!);
        } catch (error) {
          console.error('github-sim: reading refs after a push failed', error);
        }
      }
      res.end();
      resolve(status);
    });
  });
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | null {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { index: crlf, length: 4 };
  if (lf >= 0) return { index: lf, length: 2 };
  return null;
}

type SmartService = { program: 'upload-pack' | 'receive-pack'; advertise: boolean };

/** The smart protocol request this is (refs advertisement or RPC), or null for the dumb paths. */
function smartService(method: string, service: string, query: string): SmartService | null {
  if (method === 'POST' && (service === 'git-upload-pack' || service === 'git-receive-pack'))
    return {
      program: service === 'git-upload-pack' ? 'upload-pack' : 'receive-pack',
      advertise: false,
    };
  if (method === 'GET' && service === 'info/refs') {
    const name = new URLSearchParams(query).get('service');
    if (name === 'git-upload-pack' || name === 'git-receive-pack')
      return {
        program: name === 'git-upload-pack' ? 'upload-pack' : 'receive-pack',
        advertise: true,
      };
  }
  return null;
}

/**
 * One smart HTTP request, served as http-backend serves it: the advertisement (with the
 * `# service=` line unless the client speaks protocol v2) or the RPC, with a gzip body inflated
 * here. The body is read whole, git runs through the pool's helpers, and its answer is sent
 * whole (a one-commit fetch or push is small). After a push, the refs it named are read back
 * from their files.
 */
async function serveSmart(
  core: SimCore,
  req: IncomingMessage,
  res: ServerResponse,
  repository: Repository,
  login: string | null,
  gitDir: string,
  { program, advertise }: SmartService,
): Promise<number> {
  const protocol = req.headers['git-protocol'] ? String(req.headers['git-protocol']) : '';
  const args = advertise
    ? [program, '--stateless-rpc', '--advertise-refs', gitDir]
    : [program, '--stateless-rpc', gitDir];
  let body: Buffer | undefined;
  if (!advertise) {
    const gzip =
      req.headers['content-encoding'] === 'gzip' || req.headers['content-encoding'] === 'x-gzip';
    try {
      body = await readBody(gzip ? req.pipe(createGunzip()) : req);
    } catch (error) {
      plain(res, 400, `reading the request failed: ${(error as Error).message}`);
      return 400;
    }
  }
  if (body !== undefined) {
    const answered = await answerInNode(core, res, repository, login, gitDir, program, body);
    if (answered) return 200;
  }
  const result = await gitPool()
    .run('git', args, {
      cwd: gitDir,
      env: { GIT_DIR: gitDir, ...(protocol ? { GIT_PROTOCOL: protocol } : {}) },
      ...(body !== undefined ? { input: body } : {}),
    })
    .catch((error: unknown) => error as Error);
  // A git that failed after answering (`ERR not our ref`) has said what went wrong, in the
  // protocol: the client gets that answer, as http-backend streams it.
  if (result instanceof Error || (result.code !== 0 && result.stdout.length === 0)) {
    const why =
      result instanceof Error
        ? result.message
        : `exited with ${result.code}: ${result.stderr.toString()}`;
    plain(res, 500, `git ${program} ${why}`);
    return 500;
  }
  res.writeHead(200, smartHeaders(program, advertise ? 'advertisement' : 'result'));
  if (advertise && !/(^|:)version=2(:|$)/.test(protocol))
    res.write(Buffer.concat([pkt(`# service=git-${program}\n`), Buffer.from('0000')]));
  res.write(result.stdout);
  if (program === 'receive-pack' && !advertise) {
    try {
      const branches = pushedBranches(body!);
      if (branches === null) await core.repositories.refreshFromDisk(repository, login!);
      else await core.repositories.refreshBranches(repository, login!, branches);
    } catch (error) {
      console.error('github-sim: reading refs after a push failed', error);
    }
  }
  res.end();
  return 200;
}

/** The fetch and push a campaign makes, answered without git when they can be (see smart-in-node). */
async function answerInNode(
  core: SimCore,
  res: ServerResponse,
  repository: Repository,
  login: string | null,
  gitDir: string,
  program: 'upload-pack' | 'receive-pack',
  body: Buffer,
): Promise<boolean> {
  const answer = await core.store
    .withReader(gitDir, async (reader) =>
      program === 'upload-pack'
        ? { reply: await uploadPackInNode(reader, body), branches: null }
        : ((await receivePackInNode(gitDir, reader, body)) ?? { reply: null, branches: null }),
    )
    .catch((error: unknown) => {
      console.error(`github-sim: answering ${program} failed; git answers instead`, error);
      return { reply: null, branches: null };
    });
  if (answer.reply === null) return false;
  res.writeHead(200, smartHeaders(program, 'result'));
  res.write(answer.reply);
  if (answer.branches !== null) {
    await core.repositories
      .refreshBranches(repository, login!, answer.branches)
      .catch((error: unknown) =>
        console.error('github-sim: reading refs after a push failed', error),
      );
  }
  res.end();
  return true;
}

/** What http-backend sends with a smart answer: its content type, and never cache it. */
function smartHeaders(program: string, kind: 'advertisement' | 'result'): Record<string, string> {
  return {
    'content-type': `application/x-git-${program}-${kind}`,
    expires: 'Fri, 01 Jan 1980 00:00:00 GMT',
    pragma: 'no-cache',
    'cache-control': 'no-cache, max-age=0, must-revalidate',
  };
}

async function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
