// node --import tsx bench/sim.bench.ts — github-sim: seeding time and disk for 1,000 and 10,000
// repositories, and REST throughput (GET a pull request, POST a pull request) with 16 concurrent
// clients against a baseline measured in the same run: a bare node:http server answering a
// static body of the same size; and webhook deliveries per second against plain signed POSTs. The simulator and the baseline each run in their own process
// (the real CLI for the simulator), the load generator in this one. Prints a table, then one
// JSON line with every figure.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createHmac } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../tools/github-sim/src/control/control-client.js';
import { startGithubSim } from '../tools/github-sim/src/github-sim.js';
import { seedSyntheticRepos } from '../tools/github-sim/src/seed/seeder.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const SEED_COUNTS = [1000, 10_000];
const CLIENTS = 16;
const DURATION_MS = 5000 * SCALE;
const POST_REPOS = 4000;
const TOKEN = 'sim-admin-token';

// ---- seeding -----------------------------------------------------------------------------------

async function measureSeeding(count: number) {
  const dir = await mkdtemp(join(tmpdir(), 'github-sim-bench-'));
  const sim = await startGithubSim({ dataDir: dir });
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  await seedSyntheticRepos(sim.core, { owner: 'acme', count });
  const ms = performance.now() - started;
  const rssDelta = process.memoryUsage().rss - rssBefore;
  await sim.stop();
  const bytes = Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
  const sharedBytes = Number(
    execFileSync('du', ['-sb', join(dir, 'objects.git')])
      .toString()
      .split('\t')[0],
  );
  await rm(dir, { recursive: true, force: true });
  return { count, ms, bytes, sharedBytes, rssDeltaBytes: rssDelta };
}

// ---- servers in child processes ----------------------------------------------------------------

function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

const BASELINE_SERVER = `
const http = require('node:http');
const bodies = JSON.parse(process.env.BODIES);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const post = req.method === 'POST';
    if (post) JSON.parse(Buffer.concat(chunks).toString());
    const body = post ? bodies.post : bodies.get;
    res.writeHead(post ? 201 : 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`;

// ---- load --------------------------------------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

function send(
  url: string,
  method: string,
  body?: string,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `token ${TOKEN}`,
          accept: 'application/vnd.github+json',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs CLIENTS loops until the time is up or `next` returns null; returns requests per second. */
async function load(
  next: (i: number) => { url: string; method: string; body?: string } | null,
  expectStatus: number,
) {
  const deadline = performance.now() + DURATION_MS;
  let done = 0;
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const r = next(issued++);
        if (!r) return;
        const { status } = await send(r.url, r.method, r.body);
        if (status !== expectStatus) throw new Error(`${r.method} ${r.url} answered ${status}`);
        done++;
      }
    }),
  );
  return { requests: done, perSecond: (done * 1000) / (performance.now() - started) };
}

const seeding = [];
for (const count of SEED_COUNTS) seeding.push(await measureSeeding(count));

// Every 50th synthetic repository is archived (read-only); the benchmark writes to the others.
const writable = Array.from({ length: POST_REPOS }, (_, i) => i).filter((i) => i % 50 !== 49);
const repo = (i: number) => `repo-${String(writable[i]! + 1).padStart(5, '0')}`;
const LAST = writable.length - 1;
const postBody = (i: number) =>
  JSON.stringify({
    head: 'bench',
    base: 'main',
    title: `Campaign change ${i}`,
    body: 'Automated change',
  });

/** The simulator through its CLI, limits off, repositories with a branch one commit ahead of main. */
async function startSim(extraArgs: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'github-sim-bench-'));
  const server = await startProcess([
    '--import',
    'tsx',
    'tools/github-sim/src/main.ts',
    '--port',
    '0',
    '--no-limits',
    '--admin-token',
    TOKEN,
    '--data',
    dir,
    ...extraArgs,
  ]);
  await new ControlClient(server.url).seedRepos({
    owner: 'acme',
    count: POST_REPOS,
    featureBranch: 'bench',
  });
  return {
    ...server,
    async stop() {
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Opens pull requests from `bench` in fresh repositories, as many as fit in the time. */
function postLoad(url: string) {
  let nextRepo = 1; // repo(0) has its pull request from the sample
  return load(() => {
    if (nextRepo >= LAST - CLIENTS) return null;
    const i = nextRepo++;
    return { url: `${url}/api/v3/repos/acme/${repo(i)}/pulls`, method: 'POST', body: postBody(i) };
  }, 201);
}

// ---- webhook deliveries -------------------------------------------------------------------------

const HOOKS = 8;
const WEBHOOK_EVENTS = Math.max(20, Math.round(200 * SCALE));

/**
 * Deliveries per second from an in-process simulator: HOOKS hooks on one repository, each pull
 * request edit fanning out to all of them, timed until the receiver has every delivery. The
 * baseline sends the same number of signed POSTs of the same size to the same receiver, in HOOKS
 * serial streams, as the deliverer does (one delivery at a time per hook).
 */
async function measureWebhooks() {
  let received = 0;
  let bodyBytes = 0;
  let waiting: { count: number; resolve: () => void } | null = null;
  const receiver = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      received++;
      bodyBytes = Math.max(bodyBytes, bytes);
      res.end('ok');
      if (waiting && received >= waiting.count) waiting.resolve();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const until = (count: number) =>
    received >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => (waiting = { count, resolve }));

  const sim = await startGithubSim({ repos: 1, org: 'acme', limitsDisabled: true });
  try {
    const name = 'repo-00001';
    await sim.control.pushCommit({
      owner: 'acme',
      name,
      branch: 'bench',
      files: { 'bench.txt': 'x\n' },
    });
    await sim.control.openPullRequest({ owner: 'acme', name, head: 'bench', title: 'Benchmark' });
    for (let h = 0; h < HOOKS; h++) {
      await sim.control.call('createHook', {
        owner: 'acme',
        name,
        url: hookUrl,
        secret: 'bench-secret',
        events: ['pull_request'],
      });
    }
    await until(HOOKS); // the pings
    const started = performance.now();
    const target = received + WEBHOOK_EVENTS * HOOKS;
    for (let i = 0; i < WEBHOOK_EVENTS; i++) {
      const res = await fetch(`${sim.apiUrl}/repos/acme/${name}/pulls/1`, {
        method: 'PATCH',
        headers: { authorization: `token ${sim.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `Benchmark ${i}` }),
      });
      if (res.status !== 200) throw new Error(`PATCH answered ${res.status}`);
    }
    await until(target);
    const simMs = performance.now() - started;

    const body = JSON.stringify({ padding: 'x'.repeat(Math.max(0, bodyBytes - 15)) });
    const signature = `sha256=${createHmac('sha256', 'bench-secret').update(body).digest('hex')}`;
    const baselineStarted = performance.now();
    await Promise.all(
      Array.from({ length: HOOKS }, async () => {
        for (let i = 0; i < WEBHOOK_EVENTS; i++) {
          const res = await fetch(hookUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
            body,
          });
          await res.text();
        }
      }),
    );
    const baselineMs = performance.now() - baselineStarted;
    const deliveries = WEBHOOK_EVENTS * HOOKS;
    return {
      deliveries,
      bodyBytes,
      perSecond: (deliveries * 1000) / simMs,
      baselinePerSecond: (deliveries * 1000) / baselineMs,
    };
  } finally {
    await sim.stop();
    await new Promise((resolve) => receiver.close(resolve));
  }
}

const webhooks = await measureWebhooks();
const sim = await startSim([]);
let baseline: { child: ChildProcess; url: string } | null = null;
try {
  const control = new ControlClient(sim.url);
  for (let i = 0; i < CLIENTS; i++) {
    await control.openPullRequest({
      owner: 'acme',
      name: repo(LAST - i),
      head: 'bench',
      title: 'Benchmark',
    });
  }
  const getUrl = (i: number) =>
    `${sim.url}/api/v3/repos/acme/${repo(LAST - (i % CLIENTS))}/pulls/1`;
  const getSample = await send(getUrl(0), 'GET');
  const postSample = await send(
    `${sim.url}/api/v3/repos/acme/${repo(0)}/pulls`,
    'POST',
    postBody(0),
  );
  baseline = await startProcess(['-e', BASELINE_SERVER], {
    BODIES: JSON.stringify({
      get: `"${'x'.repeat(getSample.bytes - 2)}"`,
      post: `"${'x'.repeat(postSample.bytes - 2)}"`,
    }),
  });
  const baselineUrl = baseline.url;

  // Baseline and simulator one after the other, each for the same time.
  const baselineGet = await load(
    (i) => ({ url: `${baselineUrl}/get/${i % CLIENTS}`, method: 'GET' }),
    200,
  );
  const simGet = await load((i) => ({ url: getUrl(i), method: 'GET' }), 200);
  const baselinePost = await load(
    (i) => ({ url: `${baselineUrl}/post`, method: 'POST', body: postBody(i) }),
    201,
  );
  const simPost = await postLoad(sim.url);
  await sim.stop();

  // The same, with mergeability and diff statistics computed before answering.
  const eagerSim = await startSim(['--eager-pull-stats']);
  await send(`${eagerSim.url}/api/v3/repos/acme/${repo(0)}/pulls`, 'POST', postBody(0));
  const eagerPost = await postLoad(eagerSim.url);
  await eagerSim.stop();

  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  const rows: [string, string, string][] = [
    ...seeding.map(
      (s) =>
        [
          `seed ${s.count.toLocaleString('en')} repos`,
          `${(s.ms / 1000).toFixed(1)} s`,
          `${mib(s.bytes)} MiB on disk (${mib(s.sharedBytes)} MiB shared objects)`,
        ] as [string, string, string],
    ),
    [
      'GET pull, 16 clients',
      `${simGet.perSecond.toFixed(0)} req/s`,
      `baseline ${baselineGet.perSecond.toFixed(0)} req/s, ratio ${ratio(simGet.perSecond, baselineGet.perSecond)} (${getSample.bytes} B bodies)`,
    ],
    [
      'POST pull, 16 clients',
      `${simPost.perSecond.toFixed(0)} req/s`,
      `baseline ${baselinePost.perSecond.toFixed(0)} req/s, ratio ${ratio(simPost.perSecond, baselinePost.perSecond)} (${simPost.requests} PRs, ${postSample.bytes} B bodies)`,
    ],
    [
      `webhook deliveries, ${HOOKS} hooks`,
      `${webhooks.perSecond.toFixed(0)} deliveries/s`,
      `baseline ${webhooks.baselinePerSecond.toFixed(0)}/s, ratio ${ratio(webhooks.perSecond, webhooks.baselinePerSecond)} (${webhooks.deliveries} deliveries, ${webhooks.bodyBytes} B bodies)`,
    ],
    [
      'POST pull, 16 clients, --eager-pull-stats',
      `${eagerPost.perSecond.toFixed(0)} req/s`,
      `ratio ${ratio(eagerPost.perSecond, baselinePost.perSecond)} (${eagerPost.requests} PRs)`,
    ],
  ];
  console.log(
    `github-sim benchmark — ${cpus().length} CPUs, ${mib(totalmem())} MiB RAM, node ${process.version}\n`,
  );
  console.log(`| measurement | result | detail |\n|---|---|---|`);
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
  console.log(
    JSON.stringify({
      bench: 'github-sim',
      cpus: cpus().length,
      seeding,
      get: {
        sim: simGet,
        baseline: baselineGet,
        ratio: simGet.perSecond / baselineGet.perSecond,
        bodyBytes: getSample.bytes,
      },
      post: {
        sim: simPost,
        baseline: baselinePost,
        ratio: simPost.perSecond / baselinePost.perSecond,
        bodyBytes: postSample.bytes,
      },
      postEagerStats: { sim: eagerPost, ratio: eagerPost.perSecond / baselinePost.perSecond },
      webhooks: { ...webhooks, ratio: webhooks.perSecond / webhooks.baselinePerSecond },
      targets: {
        seed10kSeconds: 60,
        seed10kBytes: 2 * 1024 ** 3,
        getPerSecond: 1000,
        postPerSecond: 300,
      },
    }),
  );
} finally {
  baseline?.child.kill('SIGTERM');
  await sim.stop();
  agent.destroy();
}
