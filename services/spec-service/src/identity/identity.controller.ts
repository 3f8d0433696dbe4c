import {
  orgsAddMemberRequestSchema,
  orgsCreateRequestSchema,
  type OrgsAddMemberRequest,
  type OrgsAddMemberResult,
  type OrgsCreateResult,
  tokensCreateRequestSchema,
  tokensRevokeRequestSchema,
  usersCreateRequestSchema,
  usersListRequestSchema,
  whoamiRequestSchema,
  type TokensCreateRequest,
  type TokensCreateResult,
  type TokensRevokeRequest,
  type TokensRevokeResult,
  type UsersCreateResult,
  type UsersListResult,
  type WhoamiResult,
} from '@campaigns/contracts';
import {
  ApiExceptionFilter,
  forbidden,
  invalidRequest,
  ZodPayloadPipe,
} from '@campaigns/service-kit';
import { Controller, Inject, UseFilters, UseGuards } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { userNameProblem } from './access-tokens.js';
import { AuthenticationGuard } from './authentication.guard.js';
import { CallerOf } from './caller.js';
import { IdentityError, IdentityStore, type Caller } from './identity-store.js';
import { namespacesOf } from './permissions.js';

/**
 * Who the caller is (`whoami`), and the site admins' verbs over users and access tokens. The
 * reply of `tokens-create` is the only place a token ever appears; it is never logged.
 */
@Controller()
@UseFilters(ApiExceptionFilter)
@UseGuards(AuthenticationGuard)
export class IdentityController {
  constructor(@Inject(IdentityStore) private readonly identities: IdentityStore) {}

  @MessagePattern('campaign.whoami')
  async whoami(
    @Payload(new ZodPayloadPipe(whoamiRequestSchema)) _request: unknown,
    @CallerOf() caller: Caller,
  ): Promise<WhoamiResult> {
    const orgs = await this.identities.organizationsOf(caller.user);
    return {
      user: caller.user,
      siteAdmin: caller.siteAdmin,
      namespaces: namespacesOf(caller, orgs),
    };
  }

  @MessagePattern('campaign.orgs-create')
  async orgsCreate(
    @Payload(new ZodPayloadPipe(orgsCreateRequestSchema))
    request: { name: string; visibility: 'private' | 'public' },
    @CallerOf() caller: Caller,
  ): Promise<OrgsCreateResult> {
    requireSiteAdmin(caller, 'create organizations');
    const problem = userNameProblem(request.name);
    if (problem) throw invalidRequest(problem.replace('a user name', 'an organization name'));
    await refusing(this.identities.createOrganization(request.name, request.visibility));
    return { org: { name: request.name, visibility: request.visibility } };
  }

  @MessagePattern('campaign.orgs-add-member')
  async orgsAddMember(
    @Payload(new ZodPayloadPipe(orgsAddMemberRequestSchema)) request: OrgsAddMemberRequest,
    @CallerOf() caller: Caller,
  ): Promise<OrgsAddMemberResult> {
    requireSiteAdmin(caller, 'add organization members');
    return refusing(this.identities.addMember(request.org, request.user));
  }

  @MessagePattern('campaign.users-create')
  async usersCreate(
    @Payload(new ZodPayloadPipe(usersCreateRequestSchema))
    request: { name: string; siteAdmin: boolean },
    @CallerOf() caller: Caller,
  ): Promise<UsersCreateResult> {
    requireSiteAdmin(caller, 'create users');
    const problem = userNameProblem(request.name);
    if (problem) throw invalidRequest(problem);
    return { user: await refusing(this.identities.createUser(request.name, request.siteAdmin)) };
  }

  @MessagePattern('campaign.users-list')
  async usersList(
    @Payload(new ZodPayloadPipe(usersListRequestSchema)) _request: unknown,
    @CallerOf() caller: Caller,
  ): Promise<UsersListResult> {
    requireSiteAdmin(caller, 'list users');
    return { users: await this.identities.listUsers() };
  }

  @MessagePattern('campaign.tokens-create')
  async tokensCreate(
    @Payload(new ZodPayloadPipe(tokensCreateRequestSchema)) request: TokensCreateRequest,
    @CallerOf() caller: Caller,
  ): Promise<TokensCreateResult> {
    requireSiteAdmin(caller, 'create access tokens');
    return refusing(this.identities.issueToken(request.user));
  }

  @MessagePattern('campaign.tokens-revoke')
  async tokensRevoke(
    @Payload(new ZodPayloadPipe(tokensRevokeRequestSchema)) request: TokensRevokeRequest,
    @CallerOf() caller: Caller,
  ): Promise<TokensRevokeResult> {
    requireSiteAdmin(caller, 'revoke access tokens');
    if (request.id !== undefined) {
      if (!(await this.identities.revokeToken(request.id)))
        throw invalidRequest(`there is no active access token ${request.id}`);
      return { revoked: 1 };
    }
    return { revoked: await refusing(this.identities.revokeUserTokens(request.user!)) };
  }
}

function requireSiteAdmin(caller: Caller, what: string): void {
  if (!caller.siteAdmin) throw forbidden(`only site admins may ${what}; ${caller.user} is not one`);
}

/** An IdentityError (unknown user, name taken) as the request's refusal. */
async function refusing<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof IdentityError) throw invalidRequest(error.message);
    throw error;
  }
}
