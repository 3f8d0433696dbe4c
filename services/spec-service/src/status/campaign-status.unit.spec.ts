import { describe, expect, it } from '@jest/globals';
import {
  campaignStatus,
  type CampaignRow,
  type ChangesetRow,
  type ExecutionRow,
} from './campaign-status.js';

const campaign: CampaignRow = {
  campaign: 'hello',
  apply_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  spec_hash: 'a'.repeat(64),
  actor: 'alice',
  applied_at: new Date('2026-11-24T10:00:00Z'),
  resolved: true,
  resolution_error: null,
  problems: [],
};
const execution: ExecutionRow = {
  execution_id: 'e1',
  repository: 'h/acme/api',
  path: '',
  state: 'succeeded',
  message: null,
  stderr_tail: null,
  render_error: null,
  rendered: true,
};
const changeset = (over: Partial<ChangesetRow> = {}): ChangesetRow => ({
  changeset_id: 'c1',
  campaign: 'hello',
  repository: 'h/acme/api',
  head_branch: 'hello',
  wanted: true,
  published: 'true',
  spec_event_id: 'spec-2',
  reconciled_spec_event_id: 'spec-2',
  host_state: 'open',
  draft: false,
  checks: null,
  review: null,
  url: 'http://h/acme/api/pull/1',
  number: 1,
  last_error: null,
  error_terminal: false,
  updated_at: new Date('2026-11-24T10:01:00Z'),
  desired_event_id: 'spec-2',
  ...over,
});

describe('campaignStatus', () => {
  it('is complete when every changeset reached the desired state the process manager recorded', () => {
    expect(campaignStatus(campaign, [execution], [changeset()], 0).phase).toBe('complete');
  });

  it('keeps reconciling while the status projection has not yet seen the newest desired state', () => {
    // The reconciler converged on spec-2, but the process manager has since recorded spec-3.
    const behind = changeset({ desired_event_id: 'spec-3' });
    const status = campaignStatus(campaign, [execution], [behind], 0);
    expect(status.phase).toBe('reconciling');
    expect(status.changesets[0]!.converged).toBe(false);
  });

  it('keeps reconciling while a wanted changeset is missing from the status projection', () => {
    expect(campaignStatus(campaign, [execution], [changeset()], 1).phase).toBe('reconciling');
  });

  it('is executing until every execution has been rendered', () => {
    const unrendered = { ...execution, rendered: false };
    expect(campaignStatus(campaign, [unrendered], [changeset()], 0).phase).toBe('executing');
  });
});
