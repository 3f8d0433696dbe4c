// Webhooks as a simulator plugin: the deliverer on the state's change feed, GitHub's REST routes
// for pings, a hook's deliveries and redelivery, and control commands for tests.
import { HttpError, notFound } from '../http/http-error.js';
import type { ApiRequest } from '../http/router.js';
import { API, paginate, viewerOf, writableRepoOf } from '../rest/rest-helpers.js';
import type { SimCore, SimPlugin } from '../sim-core.js';
import type { Hook } from '../state/model.js';
import { hookDeliveryItemJson, hookDeliveryJson, type DeliveryFilter } from './delivery-log.js';
import { WebhookDeliverer, type RetryPolicy } from './webhook-deliverer.js';

/** Tells the plugin about hooks as they are created, so it can ping them as GitHub does. */
export interface HookCreationSource {
  onHookCreated(listener: (hook: Hook, actor: string) => void): () => void;
}

export interface WebhooksPluginOptions {
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  reorderWindowMs?: number;
  logCapacity?: number;
  enterpriseVersion?: string;
  /**
   * Where new hooks are announced, to ping them; the simulator's core when it offers
   * `onHookCreated`. Without either, hooks are pinged only on request (`…/hooks/{id}/pings`).
   */
  hookCreation?: HookCreationSource;
}

export interface WebhooksPlugin extends SimPlugin {
  /** The deliverer, once the simulator has started. */
  readonly deliverer: WebhookDeliverer;
}

export function webhooksPlugin(options: WebhooksPluginOptions = {}): WebhooksPlugin {
  let deliverer: WebhookDeliverer | undefined;
  let stopListening: (() => void) | undefined;
  return {
    name: 'webhooks',
    get deliverer(): WebhookDeliverer {
      if (deliverer === undefined) throw new Error('the webhooks plugin has not been set up yet');
      return deliverer;
    },
    setup(core: SimCore) {
      const active = new WebhookDeliverer({
        state: core.state,
        json: core.json,
        faults: core.faults,
        readCommit: async (repository, sha) => {
          try {
            return await core.store.readCommit(core.repositories.pathOf(repository), sha);
          } catch (error) {
            console.error(
              `github-sim: webhook payload without commit ${sha} of ${repository.owner}/${repository.name}`,
              error,
            );
            return null;
          }
        },
        retry: options.retry,
        timeoutMs: options.timeoutMs,
        reorderWindowMs: options.reorderWindowMs,
        logCapacity: options.logCapacity,
        enterpriseVersion: options.enterpriseVersion,
      });
      deliverer = active;
      active.start();
      const hookCreation = options.hookCreation ?? (isHookCreationSource(core) ? core : undefined);
      stopListening = hookCreation?.onHookCreated((hook, actor) => {
        active
          .ping(hook, actor)
          .catch((error: unknown) => console.error('github-sim: ping failed', error));
      });
      registerDeliveryRoutes(core, active);
      registerControlCommands(core, active);
    },
    stop() {
      stopListening?.();
      deliverer?.stop();
    },
  };
}

function isHookCreationSource(value: unknown): value is HookCreationSource {
  return typeof (value as Partial<HookCreationSource>).onHookCreated === 'function';
}

function registerDeliveryRoutes(core: SimCore, deliverer: WebhookDeliverer): void {
  const scopes: [Hook['scope'], string, (request: ApiRequest) => number][] = [
    ['repository', `${API}/repos/{owner}/{repo}`, (request) => writableRepoOf(core, request).id],
    [
      'organization',
      `${API}/orgs/{org}`,
      (request) => {
        const org = core.state.getAccount(request.params.org!);
        const viewer = viewerOf(request);
        if (org === undefined || org.type !== 'Organization') throw notFound();
        if (!core.state.isMember(org, viewer) && !core.state.getAccount(viewer)?.site_admin) {
          throw new HttpError(403, 'Must have admin rights to Organization.');
        }
        return org.id;
      },
    ],
  ];
  for (const [scope, base, ownerIdOf] of scopes) {
    const hookOf = (request: ApiRequest): Hook => {
      const hook = core.state.getHook(Number(request.params.hook_id));
      if (hook === undefined || hook.scope !== scope || hook.owner_id !== ownerIdOf(request))
        throw notFound();
      return hook;
    };
    const deliveryOf = (request: ApiRequest) => {
      const hook = hookOf(request);
      const record = deliverer.delivery(Number(request.params.delivery_id));
      if (record === undefined || record.hookId !== hook.id) throw notFound();
      return record;
    };
    core.route({
      method: 'POST',
      path: `${base}/hooks/{hook_id}/pings`,
      handler: (request) => {
        void deliverer
          .ping(hookOf(request), request.viewer ?? undefined)
          .catch((error: unknown) => {
            console.error('github-sim: ping failed', error);
          });
        return { status: 204 };
      },
    });
    core.route({
      method: 'GET',
      path: `${base}/hooks/{hook_id}/deliveries`,
      handler: (request) => {
        const hook = hookOf(request);
        // GitHub lists a hook's deliveries newest first.
        const records = deliverer.deliveries({ hookId: hook.id }).reverse();
        return paginate(request, core, records, hookDeliveryItemJson);
      },
    });
    core.route({
      method: 'GET',
      path: `${base}/hooks/{hook_id}/deliveries/{delivery_id}`,
      handler: (request) => ({ body: hookDeliveryJson(deliveryOf(request)) }),
    });
    core.route({
      method: 'POST',
      path: `${base}/hooks/{hook_id}/deliveries/{delivery_id}/attempts`,
      handler: (request) => {
        void deliverer.redeliver(deliveryOf(request).id).catch((error: unknown) => {
          console.error('github-sim: redelivery failed', error);
        });
        return { status: 202, body: {} };
      },
    });
  }
}

function registerControlCommands(core: SimCore, deliverer: WebhookDeliverer): void {
  core.control<DeliveryFilter, unknown>('webhookDeliveries', (filter) =>
    deliverer.deliveries(filter ?? {}),
  );
  core.control<{ deliveryId: number }, unknown>('redeliverWebhook', (input) =>
    deliverer.redeliver(input.deliveryId),
  );
  core.control<{ hookId: number; actor?: string }, unknown>('pingHook', (input) => {
    const hook = core.state.getHook(input.hookId);
    if (hook === undefined) throw new HttpError(404, `No hook ${input.hookId}`);
    return deliverer.ping(hook, input.actor);
  });
  core.control<Record<string, never>, unknown>('webhooksIdle', async () => {
    await deliverer.idle();
    return { idle: true };
  });
}
