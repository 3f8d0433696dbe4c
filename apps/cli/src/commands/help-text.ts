import type { CommandHelp } from '../command.js';

/** What every command that asks spec-service over NATS reads from the environment. */
export const NATS_ENV: CommandHelp['env'] = [
  ['CAMPAIGN_TOKEN', 'your access token (default: the one campaign login saved)'],
  [
    'NATS_URL',
    'where NATS is (default: the one npm start saved in the config file, else nats://127.0.0.1:4222; several: comma-separated)',
  ],
  ['NATS_USER', "the NATS user the CLI connects as (default: the config file's, without NATS_URL)"],
  ['NATS_PASSWORD', "that user's password (unset: the config file's, else none)"],
  ['NATS_PASSWORD_FILE', 'a file holding that password instead (e.g. a compose secret)'],
  ['EVENTS_STREAM', "the JetStream stream of the services' events (default EVENTS)"],
  ['EVENTS_SUBJECT_PREFIX', "the services' subject prefix (default ev)"],
  ['CAMPAIGN_REQUEST_TIMEOUT_MS', 'how long one request waits for spec-service (default 10000)'],
];

/** Read by every command that prints tables. */
export const COLOUR_ENV: CommandHelp['env'] = [
  ['NO_COLOR', 'any value turns colour off (colour is only ever on when stdout is a terminal)'],
];

/** Exit codes of the commands that ask spec-service. */
export const NATS_EXIT_CODES: CommandHelp['exitCodes'] = [
  [0, 'success'],
  [1, 'spec-service answered with an error (the message says which)'],
  [2, 'the command line is wrong, or NATS or spec-service cannot be reached'],
  [4, 'not authenticated (no, an unknown or a revoked token) or not allowed'],
];
