import { randomUUID } from 'node:crypto';
import { MAX_PAGE_ROWS, type ChangesetsPage, type ChangesetStatus } from '@campaigns/contracts';
import { SERVICE_SETTINGS } from '@campaigns/service-kit';
import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  UseFilters,
} from '@nestjs/common';
import type { DashboardSettings } from '../dashboard-settings.js';
import { CampaignHistory } from './campaign-history.js';
import { DashboardErrorFilter } from './dashboard-error.filter.js';
import {
  bulkAction,
  campaignName,
  changesetKey,
  namespaceParam,
  changesetMatch,
  erroredOnly,
  InvalidInput,
  pageParams,
} from './query-params.js';
import { SpecServiceApi } from './spec-service-api.js';
import { Credential } from '../session/credential.decorator.js';

/** The JSON API the dashboard's pages read, under /api. */
@Controller('api')
@UseFilters(DashboardErrorFilter)
export class DashboardApiController {
  constructor(
    @Inject(SpecServiceApi) private readonly spec: SpecServiceApi,
    @Inject(CampaignHistory) private readonly history: CampaignHistory,
    @Inject(SERVICE_SETTINGS) private readonly settings: DashboardSettings,
  ) {}

  /** What the pages offer: bulk actions only when the operator turned them on. */
  @Get('settings')
  settingsOfPages(): DashboardSettings {
    return this.settings;
  }

  @Get('campaigns')
  campaigns(@Credential() token: string, @Query() query: Record<string, unknown>) {
    const { after, limit } = pageParams(query);
    const namespace = namespaceParam(query);
    return this.spec.request(
      'list',
      { after, limit, ...(namespace === undefined ? {} : { namespace }) },
      token,
    );
  }

  @Get('campaigns/:campaign')
  campaign(@Credential() token: string, @Param('campaign') name: string) {
    return this.spec.request('get', { campaign: campaignName(name) }, token);
  }

  /** The changesets table: filtered by state, checks, review, repository; paged. */
  @Get('campaigns/:campaign/changesets')
  changesets(
    @Credential() token: string,
    @Param('campaign') name: string,
    @Query() query: Record<string, unknown>,
  ) {
    const { after, limit } = pageParams(query);
    return this.spec.request(
      'changesets',
      {
        campaign: campaignName(name),
        after,
        limit,
        match: changesetMatch(query),
        filter: erroredOnly(query) ? 'errored' : 'all',
        diffstat: true,
      },
      token,
    );
  }

  @Get('campaigns/:campaign/burndown')
  async burndown(@Credential() token: string, @Param('campaign') name: string) {
    const key = await this.keyIfReadable(campaignName(name), token);
    const burndown = await this.history.burndown(key);
    if (burndown === null) throw new NotFoundException(`no campaign "${name}" in the event log`);
    return burndown;
  }

  /** The spec as applied, and its history: newest first, each with its diff. */
  @Get('campaigns/:campaign/specs')
  async specs(@Credential() token: string, @Param('campaign') name: string) {
    const key = await this.keyIfReadable(campaignName(name), token);
    const specs = await this.history.specs(key);
    if (specs.length === 0) throw new NotFoundException(`no campaign "${name}" in the event log`);
    return { campaign: name, specs };
  }

  /** One changeset: its row, its diff and its audit timeline. */
  @Get('campaigns/:campaign/changeset')
  async changeset(
    @Credential() token: string,
    @Param('campaign') name: string,
    @Query() query: Record<string, unknown>,
  ) {
    const campaign = campaignName(name);
    const { repository, headBranch } = changesetKey(query);
    const row = await this.findChangeset(campaign, repository, headBranch, token);
    if (row === undefined)
      throw new NotFoundException(
        `campaign "${campaign}" has no changeset ${repository}@${headBranch}`,
      );
    const key = await this.keyIfReadable(campaign, token);
    return {
      campaign,
      changeset: row,
      ...(await this.history.changeset(key, repository, headBranch)),
    };
  }

  /**
   * A bulk action from the table: one bulk operation per selected repository (narrowing the
   * table's filters), or one over everything the filters match when nothing is selected.
   */
  @Post('campaigns/:campaign/bulk')
  @HttpCode(202)
  async bulk(@Credential() token: string, @Param('campaign') name: string, @Body() body: unknown) {
    if (!this.settings.bulkActions)
      throw new ForbiddenException(
        'bulk actions are off on this dashboard (DASHBOARD_BULK_ACTIONS=off)',
      );
    const campaign = campaignName(name);
    const action = bulkAction(body);
    const matches =
      action.repositories.length === 0
        ? [action.match]
        : action.repositories.map((repository) => ({ ...action.match, repository }));
    const operations = [];
    for (const match of matches) {
      operations.push(
        await this.spec.request(
          'bulk',
          {
            campaign,
            operationId: randomUUID(),
            operation: action.operation,
            ...(action.message === undefined ? {} : { message: action.message }),
            ...(action.method === undefined ? {} : { method: action.method }),
            match,
          },
          token,
        ),
      );
    }
    return { campaign, operations };
  }

  /** A bulk operation's progress and results. */
  @Get('bulk/:operationId')
  bulkResults(
    @Credential() token: string,
    @Param('operationId') operationId: string,
    @Query() query: Record<string, unknown>,
  ) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(operationId))
      throw new BadRequestException('the operation id must be a UUID');
    const { after, limit } = pageParams(query);
    return this.spec.request('bulk-results', { operationId, after, limit }, token);
  }

  /**
   * The key the campaign is recorded under in the event log (`NS/NAME`, a bare name in
   * `default`), as spec-service resolves what the page named for this caller. What the
   * dashboard reads from the log itself (burndown, spec history, timeline) is shown only to whom
   * spec-service shows the campaign: its answer is the permission check.
   */
  private async keyIfReadable(campaign: string, token: string): Promise<string> {
    return (await this.spec.request('get', { campaign }, token)).campaign;
  }

  /** The changeset's row: the repository's changesets (few) searched for the head branch. */
  private async findChangeset(
    campaign: string,
    repository: string,
    headBranch: string,
    token: string,
  ): Promise<ChangesetStatus | undefined> {
    if (/[*?]/.test(repository)) throw new InvalidInput(`"${repository}" is not a repository name`);
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const page: ChangesetsPage = await this.spec.request(
        'changesets',
        { campaign, after, limit: MAX_PAGE_ROWS, match: { repository }, diffstat: true },
        token,
      );
      const row = page.changesets.find((c) => c.headBranch === headBranch);
      if (row !== undefined || page.next === null) return row;
      after = page.next;
    }
    return undefined;
  }
}
