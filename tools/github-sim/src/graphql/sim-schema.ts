import type { GraphQLSchema } from 'graphql';
import { githubSchema } from './github-schema.js';
import { buildSchemaSubset, type SchemaSubset } from './subset-schema.js';

/**
 * The part of GitHub's schema the sim serves: what Campaigns' GitHub adapter reads and writes
 * (pull request state for the syncer, draft/ready, auto-merge, merge) and rate limit status.
 */
export const simSchemaSubset: SchemaSubset = {
  Query: ['node', 'nodes', 'repository', 'rateLimit', 'viewer'],
  Mutation: [
    'markPullRequestReadyForReview',
    'convertPullRequestToDraft',
    'enablePullRequestAutoMerge',
    'mergePullRequest',
  ],
  Node: ['id'],
  Actor: ['login', 'url', 'avatarUrl'],
  RepositoryOwner: ['id', 'login', 'url', 'avatarUrl'],
  User: ['id', 'databaseId', 'login', 'url', 'avatarUrl', 'name'],
  Bot: ['id', 'databaseId', 'login', 'url', 'avatarUrl'],
  Organization: ['id', 'databaseId', 'login', 'url', 'avatarUrl', 'name'],
  Repository: [
    'id',
    'databaseId',
    'name',
    'nameWithOwner',
    'owner',
    'url',
    'isArchived',
    'isPrivate',
    'pullRequest',
  ],
  PullRequest: [
    'id',
    'databaseId',
    'number',
    'title',
    'body',
    'state',
    'isDraft',
    'closed',
    'merged',
    'mergeable',
    'reviewDecision',
    'headRefName',
    'headRefOid',
    'baseRefName',
    'baseRefOid',
    'url',
    'permalink',
    'createdAt',
    'updatedAt',
    'closedAt',
    'mergedAt',
    'author',
    'mergedBy',
    'repository',
    'labels',
    'reviews',
    'commits',
    'autoMergeRequest',
  ],
  PageInfo: ['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor'],
  LabelConnection: ['nodes', 'edges', 'pageInfo', 'totalCount'],
  LabelEdge: ['node', 'cursor'],
  Label: ['id', 'name', 'color', 'description'],
  PullRequestReviewConnection: ['nodes', 'edges', 'pageInfo', 'totalCount'],
  PullRequestReviewEdge: ['node', 'cursor'],
  PullRequestReview: ['id', 'databaseId', 'state', 'author', 'body', 'submittedAt', 'createdAt'],
  PullRequestCommitConnection: ['nodes', 'edges', 'pageInfo', 'totalCount'],
  PullRequestCommitEdge: ['node', 'cursor'],
  PullRequestCommit: ['id', 'commit'],
  Commit: ['id', 'oid', 'abbreviatedOid', 'statusCheckRollup'],
  StatusCheckRollup: ['id', 'state'],
  AutoMergeRequest: [
    'enabledAt',
    'enabledBy',
    'mergeMethod',
    'commitHeadline',
    'commitBody',
    'authorEmail',
  ],
  RateLimit: ['cost', 'limit', 'nodeCount', 'remaining', 'resetAt', 'used'],
  MarkPullRequestReadyForReviewPayload: ['clientMutationId', 'pullRequest'],
  ConvertPullRequestToDraftPayload: ['clientMutationId', 'pullRequest'],
  EnablePullRequestAutoMergePayload: ['clientMutationId', 'actor', 'pullRequest'],
  MergePullRequestPayload: ['clientMutationId', 'actor', 'pullRequest'],
};

let cached: GraphQLSchema | undefined;

/** The sim's schema, without resolvers: GitHub's definitions of exactly the fields above. */
export function simSchemaDefinition(): GraphQLSchema {
  cached ??= buildSchemaSubset(githubSchema(), simSchemaSubset);
  return cached;
}
