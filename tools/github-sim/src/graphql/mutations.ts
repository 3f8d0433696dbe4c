// The pull request mutations Campaigns uses. Each goes through the simulator's operations, so it
// changes the state exactly as the REST API or a person would, and the state emits the webhooks.
import type { GraphQLFieldResolver } from 'graphql';
import type { MergeMethod, PullRequest, Repository } from '../state/model.js';
import { StateError } from '../state/sim-state.js';
import { GithubError, notFound } from './errors.js';
import {
  repositoryOf,
  resolveNode,
  statusCheckRollupState,
  type GraphqlContext,
} from './resolvers.js';

type MutationResolver = GraphQLFieldResolver<
  unknown,
  GraphqlContext,
  { input: Record<string, unknown> }
>;

interface Target {
  pull: PullRequest;
  repository: Repository;
}

/**
 * The pull request a mutation names, checked for the viewer's right to change it: write access
 * to its repository, or (`byAuthor`: draft state) being its author, e.g. of a pull request from a
 * fork, as on GitHub.
 */
function targetOf(
  context: GraphqlContext,
  input: Record<string, unknown>,
  mutation: string,
  byAuthor = false,
): Target {
  const id = input.pullRequestId as string;
  const node = resolveNode(context, id);
  if (node === null || typeof node !== 'object' || !('head' in node)) {
    throw notFound(`Could not resolve to a PullRequest with the global id of '${id}'.`);
  }
  const pull = node as PullRequest;
  const repository = repositoryOf(context, pull);
  const author = byAuthor && pull.user.toLowerCase() === context.viewer.login.toLowerCase();
  if (!author && !context.backend.canWrite(repository, context.viewer.login)) {
    throw new GithubError(
      'FORBIDDEN',
      `${context.viewer.login} does not have the correct permissions to execute \`${mutation}\``,
    );
  }
  return { pull, repository };
}

/** Runs an operation, answering its refusals as GitHub's GraphQL API does (UNPROCESSABLE, …). */
async function perform<T>(operation: () => Promise<T> | T): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof StateError) {
      const type =
        error.status === 404 ? 'NOT_FOUND' : error.status === 403 ? 'FORBIDDEN' : 'UNPROCESSABLE';
      throw new GithubError(type, error.message);
    }
    throw error;
  }
}

/** Why GitHub would refuse to enable auto-merge now ("clean" or "unstable"), or null. */
function autoMergeRefusal(
  context: GraphqlContext,
  pull: PullRequest,
  repository: Repository,
): string | null {
  if (pull.state !== 'open' || pull.draft || pull.mergeable !== true) return null;
  const rollup = statusCheckRollupState(context, repository, pull.head.sha);
  if (rollup === 'PENDING') return null;
  return rollup === null || rollup === 'SUCCESS' ? 'clean' : 'unstable';
}

const methodOf = (input: Record<string, unknown>): MergeMethod =>
  String(input.mergeMethod ?? 'MERGE').toLowerCase() as MergeMethod;

export function mutationResolvers(): Record<string, MutationResolver> {
  return {
    markPullRequestReadyForReview: async (_s, { input }, context) => {
      const { pull, repository } = targetOf(context, input, 'MarkPullRequestReadyForReview', true);
      await perform(() =>
        context.backend.pulls.setDraft(repository, pull, false, context.viewer.login),
      );
      return { clientMutationId: input.clientMutationId ?? null, pullRequest: pull };
    },

    convertPullRequestToDraft: async (_s, { input }, context) => {
      const { pull, repository } = targetOf(context, input, 'ConvertPullRequestToDraft', true);
      await perform(() =>
        context.backend.pulls.setDraft(repository, pull, true, context.viewer.login),
      );
      return { clientMutationId: input.clientMutationId ?? null, pullRequest: pull };
    },

    enablePullRequestAutoMerge: async (_s, { input }, context) => {
      const { pull, repository } = targetOf(context, input, 'EnablePullRequestAutoMerge');
      if (typeof input.expectedHeadOid === 'string' && input.expectedHeadOid !== pull.head.sha) {
        throw new GithubError(
          'UNPROCESSABLE',
          'Head branch was modified. Review and try the merge again.',
        );
      }
      // GitHub refuses auto-merge when there is nothing to wait for: the sim treats every check
      // reported on the head as required, so only pending checks leave something to wait for.
      const refusal = autoMergeRefusal(context, pull, repository);
      if (refusal !== null)
        throw new GithubError('UNPROCESSABLE', `Pull request Pull request is in ${refusal} status`);
      await perform(() =>
        context.backend.pulls.enableAutoMerge(
          repository,
          pull,
          context.viewer.login,
          methodOf(input),
        ),
      );
      return {
        clientMutationId: input.clientMutationId ?? null,
        actor: context.viewer,
        pullRequest: pull,
      };
    },

    mergePullRequest: async (_s, { input }, context) => {
      const { pull, repository } = targetOf(context, input, 'MergePullRequest');
      await perform(() =>
        context.backend.pulls.merge(repository, pull, {
          actor: context.viewer.login,
          method: methodOf(input),
          ...(typeof input.expectedHeadOid === 'string' ? { sha: input.expectedHeadOid } : {}),
          ...(typeof input.commitHeadline === 'string'
            ? { commit_title: input.commitHeadline }
            : {}),
          ...(typeof input.commitBody === 'string' ? { commit_message: input.commitBody } : {}),
        }),
      );
      return {
        clientMutationId: input.clientMutationId ?? null,
        actor: context.viewer,
        pullRequest: pull,
      };
    },
  };
}
