import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventsTopology } from '@campaigns/events';
import { connectTestNats, TEST_NATS_CLI_URL } from '@campaigns/events/testing';
import {
  API_VERBS,
  apiSubject,
  AUTHORIZATION_HEADER,
  REPLY_KEY_HEADER,
  replyKeyOf,
  sealReply,
  type ApiReply,
  type ApiVerb,
  type ApplyResult,
  type CampaignStatus,
  type ChangesetsPage,
  type ExecutionsPage,
  type FullCampaignStatus,
} from '@campaigns/contracts';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';

/** One reply; several (each sent, then the empty end marker, as `preview` does); or silence. */
export type Handler = (
  request: Record<string, unknown>,
) => ApiReply<object> | ApiReply<object>[] | null;

/** A stand-in for spec-service on the API subjects: canned answers, every request recorded. */
export class FakeSpecService {
  readonly requests: { verb: ApiVerb; body: Record<string, unknown> }[] = [];
  /** The Authorization header of each request, in the same order (undefined: none sent). */
  readonly authorizations: (string | undefined)[] = [];
  readonly handlers = new Map<ApiVerb, Handler>();
  /** Whether several replies end with the empty message (a broken spec-service might not). */
  endStreams = true;
  /** Whether replies are sealed to the request's key (a spec-service that does not seal: false). */
  sealReplies = true;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nats: NatsConnection,
    private readonly topology: EventsTopology,
  ) {}

  async start(): Promise<void> {
    for (const verb of API_VERBS) {
      const subscription = this.nats.subscribe(apiSubject(this.topology, verb), {
        callback: (_error, msg) => {
          const body = msg.json<Record<string, unknown>>();
          this.requests.push({ verb, body });
          this.authorizations.push(msg.headers?.get(AUTHORIZATION_HEADER) || undefined);
          const answer = this.handlers.get(verb)?.(body);
          // null: stay silent, as a spec-service that hangs would.
          if (answer === null || answer === undefined) return;
          // Sealed to the request's key, as spec-service does (unless told to answer in the clear).
          const key = this.sealReplies
            ? replyKeyOf(msg.headers?.get(REPLY_KEY_HEADER) ?? '')
            : undefined;
          const send = (reply: ApiReply<object>) =>
            msg.respond(
              key === undefined ? JSON.stringify(reply) : sealReply(key, JSON.stringify(reply)),
            );
          if (!Array.isArray(answer)) {
            send(answer);
            return;
          }
          for (const part of answer) send(part);
          if (this.endStreams) msg.respond();
        },
      });
      this.subscriptions.push(subscription);
    }
    await this.nats.flush();
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  /** Answers `apply` with a new application of `status`'s campaign, without warnings. */
  answerApply(status: CampaignStatus): void {
    this.handlers.set('apply', () => {
      const reply: ApiReply<ApplyResult> = {
        ok: true,
        campaign: status.campaign,
        applyId: status.applyId,
        specHash: status.specHash,
        unchanged: false,
        warnings: [],
      };
      return reply;
    });
  }

  /**
   * Answers `changesets` and `executions` (honouring `filter`) from `status`, one row a page, so
   * the client has to follow every `next`.
   */
  servePages(status: FullCampaignStatus): void {
    const page = <T>(rows: T[], after: unknown) => {
      const at = after === null || after === undefined ? 0 : Number(after);
      return { rows: rows.slice(at, at + 1), next: at + 1 < rows.length ? String(at + 1) : null };
    };
    this.handlers.set('changesets', (q) => {
      const { rows, next } = page(status.changesets, q['after']);
      const reply: ApiReply<ChangesetsPage> = { ok: true, changesets: rows, next };
      return reply;
    });
    this.handlers.set('executions', (q) => {
      const all = status.executions.filter((e) => q['filter'] !== 'failed' || e.state === 'failed');
      const { rows, next } = page(all, q['after']);
      const reply: ApiReply<ExecutionsPage> = {
        ok: true,
        applyId: status.applyId,
        executions: rows,
        next,
      };
      return reply;
    });
  }
}

/** A stand-in spec-service on a real NATS, and a spec for hello-world in a temporary folder. */
export interface FakeSetup {
  nats: NatsConnection;
  fake: FakeSpecService;
  dir: string;
  specFile: string;
  stop(): Promise<void>;
}

export async function startFakeSpecService(
  topology: EventsTopology,
  folderPrefix: string,
): Promise<FakeSetup> {
  const nats = await connectTestNats();
  const fake = new FakeSpecService(nats, topology);
  await fake.start();
  const dir = mkdtempSync(join(tmpdir(), folderPrefix));
  const specFile = join(dir, 'hello.campaign.yaml');
  writeFileSync(specFile, 'name: hello-world\non:\n  - repository: github.com/acme/api\n');
  return {
    nats,
    fake,
    dir,
    specFile,
    async stop() {
      fake.stop();
      await nats.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What the CLI needs in its environment to talk to a stand-in on `topology` (as the broker's
 * `cli` user, as people run it), polling fast.
 */
export function cliEnvFor(topology: EventsTopology): Record<string, string> {
  return {
    NATS_URL: TEST_NATS_CLI_URL,
    EVENTS_STREAM: topology.streamName,
    EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
    CAMPAIGN_ACTOR: 'alice',
    CAMPAIGN_POLL_INTERVAL_MS: '20',
  };
}
