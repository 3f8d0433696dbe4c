import { randomUUID } from 'node:crypto';
import {
  ACCESS_ACTIONS,
  campaignKey,
  DEFAULT_NAMESPACE,
  newEventId,
  securityStream,
  type EventsLogger,
  type PostgresEventStore,
} from '@campaigns/events';
import { ApiRequestError, invalidRequest } from '@campaigns/service-kit';
import { metadataFor } from '../desired-state/process-manager.js';
import type { Caller, IdentityStore } from './identity-store.js';
import { accessProblem, defaultNamespaceOf, type Access } from './permissions.js';

export type AccessAction = (typeof ACCESS_ACTIONS)[number];

/** Reading actions; everything else changes the namespace's campaigns. */
const READ_ACTIONS: ReadonlySet<AccessAction> = new Set<AccessAction>(['read']);

/** A request's campaign, once the caller may act on it: its namespace, name and recorded key. */
export interface AllowedCampaign {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
}

/**
 * The permission check of every campaign request: which namespace it acts in (the one asked
 * for, the one a `NAMESPACE/NAME` campaign names, else the caller's default), whether the caller may
 * act there, and on a refusal an `AccessDenied` in `security-<namespace>` and a `forbidden`
 * error — nothing else is recorded or changed.
 */
export class NamespaceAccess {
  constructor(
    private readonly identities: IdentityStore,
    private readonly store: PostgresEventStore,
    private readonly logger?: EventsLogger,
  ) {}

  /**
   * Every namespace whose campaigns the caller may read (`campaign list --all-namespaces`): all of
   * them for a site admin (undefined), else their own and the organizations accessProblem lets
   * them read. Nothing is refused, so nothing is recorded.
   */
  async readable(caller: Caller): Promise<readonly string[] | undefined> {
    if (caller.siteAdmin) return undefined;
    const organizations = await this.identities.readableOrganizations(caller.user);
    return [caller.user, ...organizations];
  }

  /**
   * The namespace a request acts in (absent: defaultNamespaceOf the caller), checked; `campaign`
   * may be qualified (`NS/NAME`).
   */
  async campaign(
    caller: Caller,
    action: AccessAction,
    request: { namespace?: string | undefined; campaign: string },
  ): Promise<AllowedCampaign> {
    const { namespace, name } = splitCampaign(request.namespace, request.campaign, caller);
    const found = await this.namespace(caller, action, namespace, name);
    return { namespace: found, name, key: campaignKey({ namespace: found, name }) };
  }

  /**
   * The namespace (its stored spelling) if the caller may do `action` there; an unknown
   * namespace is an invalid request (naming no campaign, so nothing is revealed).
   */
  async namespace(
    caller: Caller,
    action: AccessAction,
    namespace: string | undefined,
    campaign?: string,
  ): Promise<string> {
    const asked = namespace ?? defaultNamespaceOf(caller);
    const info = await this.identities.namespace(asked, caller.user);
    if (!info) throw invalidRequest(`there is no namespace "${asked}"`);
    const name = info.kind === 'default' ? DEFAULT_NAMESPACE : info.name;
    const access: Access = READ_ACTIONS.has(action) ? 'read' : 'write';
    const problem = accessProblem(caller, info, access);
    if (problem === null) return name;
    await this.store.append(
      securityStream(name),
      [
        {
          event_id: newEventId(),
          type: 'AccessDenied',
          data: {
            actor: caller.user,
            action,
            namespace: name,
            // The campaign's key, as every event names it: its audit shows the refusal.
            ...(campaign === undefined
              ? {}
              : { campaign: campaignKey({ namespace: name, name: campaign }) }),
            reason: problem,
          },
        },
      ],
      { expected: 'any', metadata: metadataFor(randomUUID(), null, caller.user) },
    );
    this.logger?.info({ actor: caller.user, action, namespace: name, campaign }, 'access denied');
    throw new ApiRequestError({
      code: 'forbidden',
      message: `forbidden: ${caller.user} may not ${action} in namespace ${name} (${problem})`,
    });
  }
}

/** A campaign named `NS/NAME` names its namespace; a `namespace` besides must agree with it. */
function splitCampaign(
  namespace: string | undefined,
  campaign: string,
  caller: Caller,
): { namespace: string; name: string } {
  const slash = campaign.indexOf('/');
  if (slash < 0) return { namespace: namespace ?? defaultNamespaceOf(caller), name: campaign };
  const own = campaign.slice(0, slash);
  const name = campaign.slice(slash + 1);
  if (own === '' || name === '' || name.includes('/'))
    throw invalidRequest(
      `"${campaign.slice(0, 200)}" is not a campaign name (NAME or NAMESPACE/NAME)`,
    );
  if (namespace !== undefined && namespace.toLowerCase() !== own.toLowerCase())
    throw invalidRequest(
      `the campaign "${campaign.slice(0, 200)}" is in namespace ${own}, not in ${namespace}`,
    );
  return { namespace: own, name };
}
