#!/usr/bin/env node
// github-sim on the command line: npx github-sim --port 3001 [--seed FILE] [--repos N] [--org NAME] [--data DIR]
import { parseArgs } from 'node:util';
import { startGithubSim } from './github-sim.js';

const USAGE = `Usage: github-sim [--port 3001] [--host 127.0.0.1] [--seed FILE] [--repos N] [--org acme] [--data DIR]
                  [--admin-token TOKEN] [--no-limits] [--eager-pull-stats]

Starts a GitHub-compatible server: REST under /api/v3, git over smart HTTP at /OWNER/NAME.git,
the control API under /_control.`;

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3001' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string' },
      repos: { type: 'string' },
      org: { type: 'string', default: 'acme' },
      data: { type: 'string' },
      'admin-token': { type: 'string' },
      'no-limits': { type: 'boolean', default: false },
      'eager-pull-stats': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  const repos = values.repos === undefined ? undefined : Number(values.repos);
  if (
    !Number.isInteger(port) ||
    port < 0 ||
    (repos !== undefined && (!Number.isInteger(repos) || repos < 0))
  ) {
    console.error(`github-sim: --port and --repos take whole numbers\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const started = performance.now();
  const sim = await startGithubSim({
    port,
    host: values.host,
    seed: values.seed,
    repos,
    org: values.org,
    dataDir: values.data,
    adminToken: values['admin-token'],
    limitsDisabled: values['no-limits'],
    eagerPullStats: values['eager-pull-stats'],
  });
  const count = sim.state.listRepositories().length;
  console.log(
    `github-sim listening on ${sim.url} (${count} repositories, ready in ${Math.round(performance.now() - started)} ms)\n` +
      `  REST:    ${sim.apiUrl}\n  GraphQL: ${sim.graphqlUrl}\n  git:     ${sim.url}/OWNER/NAME.git\n` +
      `  admin token: ${sim.adminToken}`,
  );
  const shutdown = async () => {
    await sim.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(`github-sim: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
