// npm run bench:webhooks — webhook-gateway's durable ingest of tracked deliveries, against a bare
// node:http server that only verifies the HMAC, measured in the same run with the same client.
// Starts the real gateway process (services/webhook-gateway/dist/main.js) over a fresh database,
// its own JetStream stream and NATS, the bare server as another process, and the GitHub simulator
// once, to render real `pull_request` and `status` payloads as templates. Then: rounds at 32
// keep-alive clients alternating between the bare server and the gateway; a burst of 2,000
// concurrent deliveries to the gateway; and a check that every delivery sent is in the store.
// Prints a table, then one JSON line. Progress goes to stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGithubSim } from '@campaigns/github-sim';
import {
  campaignsCatalogue,
  changesetId,
  changesetStream,
  PostgresEventStore,
  pollUntil,
  sleep,
} from '@campaigns/events';
import { createTestDatabase } from '@campaigns/events/testing';
import { deleteEventsStream, freePort, uniqueEventsEnv } from '@campaigns/service-kit/testing';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const CLIENTS = 32;
const ROUNDS = 3;
const PER_ROUND = Math.round(4_000 * SCALE);
const WARMUP = 1_000;
const BURST = 2_000;
const PULL_REQUESTS = 2_000;
const REPOSITORIES = 20;
const SECRET = `whsec_bench_${randomUUID()}`;

const say = (message: string) => process.stderr.write(`bench:webhooks │ ${message}\n`);
const sha = (n: number) => createHash('sha1').update(`bench-head-${n}`).digest('hex');

// ---- templates from the simulator --------------------------------------------------------------

interface Templates {
  host: string;
  simUrl: string;
  pullRequest: Record<string, unknown>;
  status: Record<string, unknown>;
}

/** A real `pull_request.edited` and `status` payload, as the simulator (GitHub's shapes) sends them. */
async function renderTemplates(): Promise<Templates> {
  const sim = await startGithubSim({ repos: 1, org: 'acme' });
  try {
    await sim.control.call('createHook', {
      owner: 'acme',
      url: 'http://127.0.0.1:9/nowhere',
      secret: SECRET,
      events: ['pull_request', 'status'],
    });
    const repo = 'repo-00001';
    const pushed = await sim.control.call('pushCommit', {
      owner: 'acme',
      name: repo,
      branch: 'bench',
      files: { 'HELLO.md': 'Hello\n' },
      message: 'Hello',
    });
    const pr = await sim.control.call('openPullRequest', {
      owner: 'acme',
      name: repo,
      head: 'bench',
      title: 'Hello World',
    });
    await sim.control.call('updatePullRequest', {
      owner: 'acme',
      name: repo,
      number: pr.number,
      title: 'Hello again',
    });
    await sim.control.call('setStatus', {
      owner: 'acme',
      name: repo,
      sha: pushed.sha,
      state: 'success',
      context: 'ci/bench',
    });
    await sim.control.call('webhooksIdle' as never, {} as never);
    const deliveries = (await sim.control.call('webhookDeliveries' as never, {} as never)) as {
      event: string;
      action: string | null;
      request: { payload: string };
    }[];
    const payload = (event: string, action: string | null) => {
      const found = deliveries.find((d) => d.event === event && d.action === action);
      if (found === undefined) throw new Error(`the simulator sent no ${event}.${action}`);
      return JSON.parse(found.request.payload) as Record<string, unknown>;
    };
    return {
      host: new URL(sim.url).host,
      simUrl: sim.url,
      pullRequest: payload('pull_request', 'edited'),
      status: payload('status', null),
    };
  } finally {
    await sim.stop();
  }
}

// ---- deliveries -------------------------------------------------------------------------------

interface Delivery {
  id: string;
  event: string;
  body: Buffer;
  signature: string;
}

const repoName = (r: number) => `bench-${String(r).padStart(3, '0')}`;
const prOf = (n: number) => ({ number: n, repo: repoName(n % REPOSITORIES) });

/** The `seq`-th delivery: about pull request `seq % PULL_REQUESTS + 1`, alternately an edit and a status. */
function delivery(t: Templates, seq: number): Delivery {
  const n = (seq % PULL_REQUESTS) + 1;
  const { repo } = prOf(n);
  const round = Math.floor(seq / PULL_REQUESTS);
  const repository = {
    ...(t.pullRequest['repository'] as Record<string, unknown>),
    name: repo,
    full_name: `acme/${repo}`,
    html_url: `${t.simUrl}/acme/${repo}`,
  };
  let event: string;
  let payload: Record<string, unknown>;
  if (seq % 2 === 0) {
    event = 'pull_request';
    const pr = t.pullRequest['pull_request'] as Record<string, unknown>;
    const head = pr['head'] as Record<string, unknown>;
    payload = {
      ...t.pullRequest,
      number: n,
      repository,
      pull_request: {
        ...pr,
        number: n,
        html_url: `${t.simUrl}/acme/${repo}/pull/${n}`,
        title: `Hello World, as renamed by a person (${seq})`,
        // Later deliveries about one pull request are newer: none is stale.
        updated_at: new Date(Date.UTC(2026, 11, 5) + seq * 1000).toISOString(),
        head: { ...head, sha: sha(n), ref: `bench-${n}` },
      },
    };
  } else {
    event = 'status';
    payload = {
      ...t.status,
      id: 1_000_000 + seq,
      sha: sha(n),
      context: `ci/bench-${round % 4}`,
      state: seq % 3 === 0 ? 'failure' : 'success',
      updated_at: new Date(Date.UTC(2026, 11, 5) + seq * 1000).toISOString(),
      repository,
    };
  }
  const body = Buffer.from(JSON.stringify(payload));
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  return { id: randomUUID(), event, body, signature };
}

// ---- processes ---------------------------------------------------------------------------------

/** The baseline: reads the body, verifies X-Hub-Signature-256 over its bytes, answers 200. */
const BARE_SERVER = `
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
const secret = process.env.SECRET;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(body).digest('hex'));
    const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
    const ok = given.length === expected.length && timingSafeEqual(given, expected);
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(ok ? '{"ok":true}' : '{"error":"signature"}');
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
`;

function spawnProcess(args: string[], env: Record<string, string>, name: string): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) say(`${name} exited ${code}: ${tail}`);
  });
  return child;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 90_000) {
  const held = await pollUntil(
    async () => ((await check().catch(() => false)) ? true : undefined),
    {
      intervalMs: 100,
      signal: AbortSignal.timeout(timeoutMs),
    },
  );
  if (!held) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

// ---- the client --------------------------------------------------------------------------------

interface Sent {
  status: number;
  ms: number;
}

function post(url: URL, d: Delivery, agent: Agent): Promise<Sent> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': String(d.body.length),
          'x-github-event': d.event,
          'x-github-delivery': d.id,
          'x-hub-signature-256': d.signature,
          'user-agent': 'GitHub-Hookshot/bench',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }),
        );
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(d.body);
  });
}

/** Sends every delivery with `clients` concurrent keep-alive connections. */
async function run(url: URL, deliveries: Delivery[], clients: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const results: Sent[] = new Array(deliveries.length);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < deliveries.length) {
        const i = next++;
        results[i] = await post(url, deliveries[i]!, agent);
      }
    }),
  );
  const wallMs = performance.now() - started;
  agent.destroy();
  return { results, wallMs };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Summary {
  deliveries: number;
  wallMs: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
}

function summarize(runs: { results: Sent[]; wallMs: number }[]): Summary {
  const all = runs.flatMap((r) => r.results);
  const wallMs = runs.reduce((sum, r) => sum + r.wallMs, 0);
  const ms = all.map((r) => r.ms).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of all) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return {
    deliveries: all.length,
    wallMs,
    perSecond: (all.length * 1000) / wallMs,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: ms.at(-1) ?? 0,
    statuses,
  };
}

// ---- main --------------------------------------------------------------------------------------

const workDir = await mkdtemp(join(tmpdir(), 'bench-webhooks-'));
const streams = uniqueEventsEnv();
const db = await createTestDatabase('campaigns_bench');
let gateway: ChildProcess | undefined;
let bare: ChildProcess | undefined;
try {
  say('rendering payloads with the simulator');
  const templates = await renderTemplates();

  const configFile = join(workDir, 'campaigns.config.yaml');
  await writeFile(
    configFile,
    `codeHosts:
  - id: bench
    kind: github
    url: ${templates.simUrl}
    apiUrl: ${templates.simUrl}/api/v3
    tokenEnv: BENCH_TOKEN
    webhookSecretEnv: BENCH_WEBHOOK_SECRET
`,
  );
  const gatewayPort = await freePort();
  const barePort = await freePort();
  // BENCH_PROFILE_DIR=<dir>: the gateway writes a CPU profile there when it stops.
  const profile = process.env.BENCH_PROFILE_DIR?.trim();
  gateway = spawnProcess(
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
      join('services', 'webhook-gateway', 'dist', 'main.js'),
    ],
    {
      DATABASE_URL: db.url,
      NATS_URL: process.env.NATS_URL?.trim() || 'nats://127.0.0.1:4222',
      HOST: '127.0.0.1',
      PORT: String(gatewayPort),
      LOG_LEVEL: 'warn',
      CAMPAIGNS_CONFIG: configFile,
      BENCH_TOKEN: 'ghp_bench_token_not_used',
      BENCH_WEBHOOK_SECRET: SECRET,
      ...streams,
    },
    'webhook-gateway',
  );
  bare = spawnProcess(
    ['--input-type=module', '-e', BARE_SERVER],
    { PORT: String(barePort), SECRET },
    'bare HMAC server',
  );
  const gatewayBase = `http://127.0.0.1:${gatewayPort}`;
  await waitUntil('webhook-gateway ready', async () => (await fetch(`${gatewayBase}/readyz`)).ok);
  await waitUntil('the bare server listening', async () => {
    await fetch(`http://127.0.0.1:${barePort}/`, { method: 'POST', body: '' });
    return true;
  });

  say(`publishing ${PULL_REQUESTS} pull requests as the reconciler would`);
  const store = new PostgresEventStore(db.pool, campaignsCatalogue());
  await store.migrate();
  const appends = Array.from({ length: PULL_REQUESTS }, (_, i) => {
    const n = i + 1;
    const repository = `${templates.host}/acme/${prOf(n).repo}`;
    const id = changesetId('bench', repository, `bench-${n}`);
    return {
      stream: changesetStream(id),
      expected: 'no_stream' as const,
      event: {
        type: 'ChangesetPublished',
        data: {
          changesetId: id,
          campaign: 'bench',
          repository,
          headBranch: `bench-${n}`,
          specEventId: randomUUID(),
          number: n,
          url: `${templates.simUrl}/acme/${prOf(n).repo}/pull/${n}`,
          nodeId: `PR_${n}`,
          draft: false,
          baseRef: 'main',
          headRefOid: sha(n),
          title: 'Hello World',
          body: '',
        },
      },
    };
  });
  await store.appendToStreams(appends, {
    correlation_id: randomUUID(),
    causation_id: null,
    actor: 'bench',
    source: 'bench',
  });
  await waitUntil('every pull request tracked', async () => {
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_gateway.tracked_pull_requests',
    );
    return rows[0]!.n === PULL_REQUESTS;
  });

  let seq = 0;
  const batch = (count: number) => Array.from({ length: count }, () => delivery(templates, seq++));
  const gatewayUrl = new URL(`${gatewayBase}/webhooks/github`);
  const bareUrl = new URL(`http://127.0.0.1:${barePort}/webhooks/github`);
  const sentToGateway: Delivery[] = [];

  say(`warming up (${WARMUP} deliveries each)`);
  const warm = batch(WARMUP);
  await run(bareUrl, warm, CLIENTS);
  sentToGateway.push(...warm);
  await run(gatewayUrl, warm, CLIENTS);

  const bareRuns = [];
  const gatewayRuns = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = batch(PER_ROUND);
    say(
      `round ${r + 1}/${ROUNDS}: ${PER_ROUND} deliveries at ${CLIENTS} clients, bare server then gateway`,
    );
    bareRuns.push(await run(bareUrl, round, CLIENTS));
    sentToGateway.push(...round);
    gatewayRuns.push(await run(gatewayUrl, round, CLIENTS));
  }

  say(`burst: ${BURST} deliveries at once`);
  const burst = batch(BURST);
  sentToGateway.push(...burst);
  const burstRun = await run(gatewayUrl, burst, BURST);

  say('checking that every delivery sent to the gateway is in the store');
  const ids = (list: Delivery[]) => list.map((d) => d.id);
  const recorded = async (list: Delivery[]) => {
    const { rows } = await db.pool.query<{ deliveries: number; events: number }>(
      `SELECT (SELECT count(*)::int FROM webhook_gateway.deliveries WHERE delivery_id = ANY($1)) AS deliveries,
              (SELECT count(*)::int FROM eventstore.events
                WHERE type = 'ChangesetObserved' AND metadata->>'correlation_id' = ANY($1)) AS events`,
      [ids(list)],
    );
    return rows[0]!;
  };
  const all = await recorded(sentToGateway);
  const inBurst = await recorded(burst);
  const metrics = await (await fetch(`${gatewayBase}/metrics`)).text();
  const metric = (name: string) =>
    Number(
      /\{[^}]*\} (\S+)$/m.exec(
        metrics.split('\n').find((l) => l.startsWith(`${name}{`)) ?? '',
      )?.[1] ?? 0,
    );
  const transactions = metric('webhook_recorder_batch_size_count');
  const batchedDeliveries = metric('webhook_recorder_batch_size_sum');

  const baseline = summarize(bareRuns);
  const subject = summarize(gatewayRuns);
  const burstSummary = summarize([burstRun]);
  const burst5xx = burstRun.results.filter((r) => r.status >= 500 || r.status === 0).length;
  const burstLost = BURST - Math.min(inBurst.deliveries, inBurst.events);
  const lostOverall = sentToGateway.length - Math.min(all.deliveries, all.events);
  const round1 = (n: number) => Math.round(n * 10) / 10;

  const rows: [string, Summary][] = [
    ['bare HMAC server (baseline)', baseline],
    ['webhook-gateway', subject],
    [`webhook-gateway, burst of ${BURST}`, burstSummary],
  ];
  console.log(
    `\nwebhook ingest, ${cpus().length} CPUs, ${CLIENTS} keep-alive clients, ${ROUNDS} alternating rounds of ${PER_ROUND}\n`,
  );
  console.log('| server | deliveries | per s | p50 ms | p99 ms | max ms | answers |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const [name, s] of rows) {
    const answers = Object.entries(s.statuses)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    console.log(
      `| ${name} | ${s.deliveries} | ${Math.round(s.perSecond)} | ${round1(s.p50)} | ${round1(s.p99)} | ${round1(s.max)} | ${answers} |`,
    );
  }
  console.log(
    `\nratio gateway/baseline ${(subject.perSecond / baseline.perSecond).toFixed(2)}; ` +
      `${sentToGateway.length} deliveries sent to the gateway, ${all.deliveries} delivery ids and ${all.events} observations in the store (lost ${lostOverall}); ` +
      `${transactions} transactions, ${(batchedDeliveries / Math.max(1, transactions)).toFixed(1)} deliveries each; ` +
      `burst: ${burst5xx} answered 5xx or unanswered, ${burstLost} not in the store\n`,
  );
  console.log(
    JSON.stringify({
      bench: 'webhooks',
      deliveries_per_s: Math.round(subject.perSecond),
      p99_ms: round1(subject.p99),
      baseline_per_s: Math.round(baseline.perSecond),
      ratio: Math.round((subject.perSecond / baseline.perSecond) * 100) / 100,
      burst: BURST,
      burst_5xx: burst5xx,
      burst_lost: burstLost,
    }),
  );
} finally {
  await stopProcess(gateway);
  await stopProcess(bare);
  await deleteEventsStream(streams).catch(() => undefined);
  await db.drop().catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
}
