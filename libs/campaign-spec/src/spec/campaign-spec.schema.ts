import { z } from 'zod';
import { RATE_HINT, RATE_PATTERN } from './rate.js';

/**
 * The campaign spec language, defined once. The parser validates with it, the JSON Schema for
 * editors is generated from it, and the TypeScript types are inferred from it. It accepts every
 * Sourcegraph batch spec unchanged (nulls where Sourcegraph allows them, its legacy fields too).
 *
 * Rules a JSON Schema cannot express (template namespaces, branch uniqueness, glob checks, …) live
 * in `../parse/semantic-checks.ts` and run after this schema.
 */

const TEMPLATED = ' Supports templating with `${{ … }}`.';

/** A spec's `name`: letters, digits, `_`, `.` and `-`. */
export const CAMPAIGN_NAME_PATTERN = /^[\w.-]+$/;

/** The values of `changesetTemplate.published` and of each entry of its list form. */
const publicationStateSchema = z
  .union([z.boolean(), z.literal('draft')], {
    error: 'must be true, false or "draft"',
  })
  .meta({
    description:
      '`true` publishes the changeset, `false` keeps it unpublished (previewed only), `"draft"` publishes it as a draft where the code host supports drafts.',
  });

export const onQuerySchema = z
  .strictObject({
    repositoriesMatchingQuery: z.string().meta({
      description:
        'A Sourcegraph search query (e.g. `file:README.md`, `repo:^github\\.com/acme/ lang:go`). Every repository with a match is included, on its default branch. Filters and predicates that are not evaluated (commit and symbol search, revisions, Sourcegraph metadata, contexts, dependencies) are refused with an error; structural search is approximated, with a warning that says how.',
      examples: ['file:README.md', 'repo:^github\\.com/acme/ -repo:-archive$ file:\\.ts$'],
    }),
  })
  .meta({
    title: 'OnQuery',
    description: 'Repositories matched by a search query.',
  });

export const onRepositorySchema = z
  .strictObject({
    repository: z.string().meta({
      description: 'The repository, as HOST/OWNER/NAME.',
      examples: ['github.com/acme/api'],
    }),
    branch: z.string().optional().meta({
      description:
        'The branch to propose changes to (default: the repository’s default branch). Not together with `branches`.',
    }),
    branches: z
      .array(z.string().meta({ description: 'A branch to propose changes to.' }))
      .optional()
      .meta({
        description:
          'Several branches to propose changes to, one changeset each. Not together with `branch`.',
      }),
  })
  .refine((entry) => entry.branch === undefined || entry.branches === undefined, {
    message: 'cannot be used together with "branch"; set one of them',
    path: ['branches'],
  })
  .meta({
    title: 'OnRepository',
    description:
      'One repository (and optionally its branches). A more specific entry overrides the branch that a query entry selects for the same repository.',
    not: { required: ['branch', 'branches'] },
  });

export const onEntrySchema = z
  .union([onQuerySchema, onRepositorySchema], {
    error: 'must be a mapping with "repositoriesMatchingQuery" or "repository"',
  })
  .meta({ title: 'OnEntry', description: 'A search query or one repository.' });

export const workspaceSchema = z
  .strictObject({
    rootAtLocationOf: z
      .string()
      .min(1, { error: 'must not be empty' })
      .meta({
        description:
          'The file name that marks the root of a workspace (project) inside a repository; the steps run once per workspace.',
        examples: ['package.json', 'go.mod', 'Cargo.toml'],
      }),
    in: z
      .string()
      .min(1, { error: 'must not be empty' })
      .default('*')
      .meta({
        description:
          'A glob over repository names (HOST/OWNER/NAME) this workspace configuration applies to. `*` matches any sequence of characters. A repository matched by two entries is an error.',
        examples: ['github.com/acme/monorepo', 'github.com/acme/*-js'],
      }),
    onlyFetchWorkspace: z.boolean().default(false).meta({
      description:
        'Fetch only the workspace’s directory (plus .gitignore/.gitattributes files on the way to the root) instead of the whole repository.',
    }),
  })
  .meta({
    title: 'WorkspaceConfiguration',
    description: 'Where projects live inside repositories, so that steps run once per project.',
  });

export const stepOutputSchema = z
  .looseObject({
    value: z.string().meta({
      description: `The value of the output, usually from \`step.stdout\`.${TEMPLATED}`,
      examples: ['${{ step.stdout }}'],
    }),
    format: z
      .enum(['text', 'json', 'yaml'], { error: 'must be "text", "json" or "yaml"' })
      .default('text')
      .meta({
        description:
          'How the value is parsed: `text` (default) keeps the string; `json` and `yaml` parse it so that templates can reach its fields (`outputs.NAME.field`).',
      }),
  })
  .meta({
    title: 'StepOutput',
    description:
      'An output variable: available as `outputs.NAME` in later steps and in changesetTemplate.',
  });

const envVarNameDescription =
  'A NAME alone takes the value from the executor’s secrets; it is never written to the spec, logs or events.';

export const stepEnvSchema = z
  .union(
    [
      z
        .record(z.string(), z.string())
        .meta({ description: `Environment variables as NAME: value.${TEMPLATED}` }),
      z
        .array(
          z.union(
            [
              z.string().meta({ description: envVarNameDescription }),
              z.record(z.string(), z.string()).meta({
                description: `One variable as {NAME: value}.${TEMPLATED}`,
                minProperties: 1,
                maxProperties: 1,
              }),
            ],
            { error: 'must be NAME or {NAME: value}' },
          ),
        )
        .meta({
          description: `A list of NAME (from the executor's secrets) and {NAME: value} entries.`,
        }),
    ],
    { error: 'must be a mapping of NAME: value, or a list of NAME and {NAME: value} entries' },
  )
  .meta({ description: 'Environment variables of the step’s container.' });

export const stepMountSchema = z
  .strictObject({
    path: z
      .string()
      .min(1, { error: 'must not be empty' })
      .meta({
        description:
          'A file or directory on the machine that runs the spec, relative to the spec file and inside its directory.',
        examples: ['./scripts/fix.py'],
      }),
    mountpoint: z
      .string()
      .min(1, { error: 'must not be empty' })
      .meta({
        description: 'Where the path appears inside the container.',
        examples: ['/tmp/fix.py'],
      }),
  })
  .meta({
    title: 'StepMount',
    description:
      'A local file or directory mounted into the container. Not supported: only the spec’s text is applied, so local files never reach the executors (as with Sourcegraph’s server-side execution); use `files`.',
  });

export const stepSchema = z
  .strictObject({
    run: z.string().meta({
      description: `The shell script to run in the container, in the workspace (mounted at /work).${TEMPLATED}`,
    }),
    container: z
      .string()
      .min(1, { error: 'must not be empty' })
      .meta({
        description: 'The container image the step runs in; it needs /bin/sh.',
        examples: ['alpine:3', 'node:20-alpine'],
      }),
    env: stepEnvSchema.nullish().meta({
      description: `Environment variables of the step's container: a mapping NAME: value, or a list of NAME (taken from the executor's secrets) and {NAME: value}.${TEMPLATED}`,
    }),
    files: z
      .record(z.string(), z.string().meta({ description: `The file's content.${TEMPLATED}` }))
      .nullish()
      .meta({
        description: `Files created in the container before the step runs, as path: content.${TEMPLATED}`,
      }),
    outputs: z
      .record(z.string(), stepOutputSchema)
      .nullish()
      .meta({ description: 'Output variables set after the step has run, by name.' }),
    if: z
      .union([z.boolean(), z.string()], { error: 'must be a boolean or a template string' })
      .nullish()
      .meta({
        description: `Run the step only when this is true or renders to "true".${TEMPLATED}`,
        examples: [true, '${{ matches repository.name "github.com/acme/*" }}'],
      }),
    mount: z.array(stepMountSchema).nullish().meta({
      description:
        'Not supported (refused): local files never reach the executors; use `files` or the container image.',
    }),
    allow_network: z.boolean().optional().meta({
      description:
        'Accepted for compatibility with old Sourcegraph batch specs and ignored: steps always have network access.',
      deprecated: true,
    }),
  })
  .meta({ title: 'Step', description: 'A command run in a container to change the workspace.' });

export const transformChangesGroupSchema = z
  .strictObject({
    directory: z.string().min(1, { error: 'must not be empty' }).meta({
      description:
        'Changes under this directory (relative to the repository root) go to their own changeset. When several groups match a file, the last one wins.',
    }),
    branch: z.string().min(1, { error: 'must not be empty' }).meta({
      description:
        'The branch of that changeset; replaces changesetTemplate.branch. Unique among groups and different from changesetTemplate.branch.',
    }),
    repository: z.string().optional().meta({
      description: 'Apply this group only in this repository (HOST/OWNER/NAME).',
    }),
    title: z
      .string()
      .optional()
      .meta({
        description: `The title of that changeset; replaces changesetTemplate.title, with steps.path set to the group's directory.${TEMPLATED}`,
      }),
  })
  .meta({
    title: 'TransformChangesGroup',
    description: 'A directory split into its own changeset.',
  });

export const transformChangesSchema = z
  .strictObject({
    group: z
      .array(transformChangesGroupSchema)
      .nullish()
      .transform((groups) => groups ?? [])
      .meta({
        description:
          'Groups of changes, each creating an additional changeset in the repository; ungrouped changes stay in the default changeset.',
      }),
  })
  .meta({
    title: 'TransformChanges',
    description: 'How to split each repository’s changes into several changesets.',
  });

export const importChangesetsSchema = z
  .strictObject({
    repository: z.string().meta({
      description: 'The repository, as HOST/OWNER/NAME.',
      examples: ['github.com/acme/api'],
    }),
    externalIDs: z
      .array(
        z.union([z.int(), z.string()], { error: 'must be a number or a string' }).meta({
          description: 'A pull/merge request number.',
        }),
      )
      .meta({ uniqueItems: true })
      .nullable()
      .transform((ids) => ids ?? [])
      .meta({
        description: 'The pull/merge requests to track, by number.',
        examples: [[120, '121']],
      }),
  })
  .meta({
    title: 'ImportChangesets',
    description: 'Existing pull/merge requests to track as part of the campaign.',
  });

export const publishedSchema = z
  .union(
    [
      publicationStateSchema,
      z
        .array(
          z.record(z.string(), publicationStateSchema).meta({
            title: 'PublishedRule',
            description:
              'One entry {GLOB: state} or {GLOB@BRANCH: state}: the glob is matched against the repository name (and the branch, when given, against the changeset’s branch).',
            minProperties: 1,
            maxProperties: 1,
          }),
        )
        .meta({
          description:
            'Per-repository publication states; when several entries match, the last one wins.',
        }),
    ],
    {
      error:
        'must be true, false, "draft", or a list of single-key mappings {GLOB: true|false|draft}',
    },
  )
  .meta({
    description:
      'Whether to publish the changesets: true, false, "draft", or a list of {GLOB[@BRANCH]: state}. Omitted means false.',
  });

export const commitAuthorSchema = z
  .strictObject({
    name: z.string().meta({ description: `The commit author's name.${TEMPLATED}` }),
    email: z.string().meta({ description: `The commit author's email address.${TEMPLATED}` }),
  })
  .meta({ title: 'GitCommitAuthor', description: 'The author of the commit.' });

export const changesetTemplateSchema = z
  .strictObject({
    title: z.string().meta({ description: `The title of the pull/merge request.${TEMPLATED}` }),
    body: z
      .string()
      .nullish()
      .transform((body) => body ?? '')
      .meta({
        description: `The body of the pull/merge request (Markdown). \`batch_change_link\` links back to the campaign.${TEMPLATED}`,
      }),
    branch: z
      .string()
      .min(1, { error: 'must not be empty' })
      .meta({
        description: `The Git branch to push the changes to; a valid Git branch name, unique per repository.${TEMPLATED}`,
      }),
    fork: z.boolean().optional().meta({
      description:
        'Push to a fork of the repository in the publishing user’s namespace instead of the repository itself.',
    }),
    commit: z
      .strictObject({
        message: z.string().meta({ description: `The commit message.${TEMPLATED}` }),
        author: commitAuthorSchema.optional(),
      })
      .meta({ title: 'ExpandedGitCommitDescription', description: 'The commit to create.' }),
    published: publishedSchema.nullish().meta({
      description:
        'Whether to publish the changesets: true, false, "draft", or a list of {GLOB[@BRANCH]: state} where the last matching entry wins. Omitted means false.',
    }),
  })
  .meta({
    title: 'ChangesetTemplate',
    description: 'How each changeset (pull/merge request) looks. Required when the spec has steps.',
  });

export const autoMergeSchema = z
  .strictObject({
    method: z
      .enum(['merge', 'squash', 'rebase'], { error: 'must be merge, squash or rebase' })
      .meta({
        description:
          'How the changesets are merged: a merge commit, one squashed commit, or the commits rebased onto the base branch.',
      }),
    native: z.boolean().optional().meta({
      description:
        "Turn on the code host's own auto-merge (GitHub's) on each changeset while its checks run, so that the host merges it as soon as its rules allow; where the host or the repository does not allow it, the reconciler merges it itself. Default false.",
    }),
  })
  .meta({
    title: 'AutoMerge',
    description:
      'Merge each published changeset once its checks pass and its review decision allows (approved, or no review required). A changeset whose checks fail, whose review requests changes or whose merge the code host refuses is left open and shown in campaign status; it is tried again only when its head, checks or review change, or a changed spec is applied.',
  });

export const campaignsExtensionSchema = z
  .strictObject({
    autoMerge: autoMergeSchema.optional(),
    publicationRate: z
      .string()
      .regex(RATE_PATTERN, { error: RATE_HINT })
      .optional()
      .meta({
        description:
          'At most this many of the campaign’s changesets are published per unit of time, across code hosts, on top of the code hosts’ rollout windows and content-creation limits: `unlimited`, `0` (publish nothing for now) or N/UNIT with UNIT second, minute, hour or day.',
        examples: ['10/hour', '200/day'],
      }),
  })
  .meta({
    title: 'CampaignsExtension',
    description:
      'Campaigns’ own settings, not part of Sourcegraph’s batch spec language (Sourcegraph refuses a spec that has them).',
  });

export const campaignSpecSchema = z
  .strictObject({
    version: z
      .union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' })
      .default(1)
      .meta({
        description:
          'The spec language version. 1 (default): queries use standard search; 2: queries use keyword search unless they set patterntype.',
      }),
    name: z
      .string()
      .regex(CAMPAIGN_NAME_PATTERN, {
        error: 'may contain only letters, digits, "_", "." and "-"',
      })
      .meta({
        description:
          'The campaign’s name, unique in its namespace; applying a spec with the same name updates the campaign.',
        examples: ['hello-world'],
      }),
    description: z
      .string()
      .nullish()
      .transform((description) => description ?? '')
      .meta({ description: 'What the campaign does and why (Markdown).' }),
    on: z
      .array(onEntrySchema)
      .nullish()
      .transform((entries) => entries ?? [])
      .meta({
        description:
          'The repositories (and branches) to change: search queries and single repositories. Duplicates collapse.',
      }),
    workspaces: z
      .array(workspaceSchema)
      .nullish()
      .transform((workspaces) => workspaces ?? [])
      .meta({ description: 'Run the steps once per project inside repositories.' }),
    steps: z
      .array(stepSchema)
      .nullish()
      .transform((steps) => steps ?? [])
      .meta({
        description: 'The commands that produce the changes, run in order in each workspace.',
      }),
    transformChanges: transformChangesSchema
      .nullish()
      .transform((t) => t ?? undefined)
      .meta({ description: 'How to split each repository’s changes into several changesets.' }),
    importChangesets: z
      .array(importChangesetsSchema)
      .nullish()
      .transform((imports) => imports ?? [])
      .meta({ description: 'Existing pull/merge requests to track.' }),
    changesetTemplate: changesetTemplateSchema.optional(),
    'x-campaigns': campaignsExtensionSchema.optional(),
  })
  .meta({
    title: 'CampaignSpec',
    description:
      'A campaign spec: which repositories to change, how, and what the resulting changesets look like. A Sourcegraph batch spec is a valid campaign spec.',
  });

/** A validated campaign spec, with nulls replaced by empty values and defaults filled in. */
export type CampaignSpec = z.output<typeof campaignSpecSchema>;
/** A campaign spec as written (before defaults): the shape of the YAML file. */
export type CampaignSpecInput = z.input<typeof campaignSpecSchema>;
export type OnEntry = CampaignSpec['on'][number];
export type OnQueryEntry = z.output<typeof onQuerySchema>;
export type OnRepositoryEntry = z.output<typeof onRepositorySchema>;
export type WorkspaceConfiguration = CampaignSpec['workspaces'][number];
export type Step = CampaignSpec['steps'][number];
export type StepOutput = z.output<typeof stepOutputSchema>;
export type StepEnv = z.output<typeof stepEnvSchema>;
export type StepMount = z.output<typeof stepMountSchema>;
export type TransformChangesGroup = z.output<typeof transformChangesGroupSchema>;
export type ImportChangesets = CampaignSpec['importChangesets'][number];
export type ChangesetTemplate = NonNullable<CampaignSpec['changesetTemplate']>;
export type CommitAuthor = z.output<typeof commitAuthorSchema>;
export type Published = z.output<typeof publishedSchema>;
/** `true` (publish), `false` (do not publish) or `'draft'`. */
export type PublicationState = z.output<typeof publicationStateSchema>;
/** `x-campaigns.autoMerge`: how the campaign's changesets are merged once they may be. */
export type AutoMerge = z.output<typeof autoMergeSchema>;

/** One environment variable of a step: a value, or (no value) a secret of the executor. */
export type StepEnvVar = { name: string; value: string } | { name: string; fromSecret: true };

/** A step's `env` in either form, as an ordered list; the last definition of a name wins. */
export function stepEnvironment(step: Pick<Step, 'env'>): StepEnvVar[] {
  const env = step.env;
  if (env == null) return [];
  const vars: StepEnvVar[] = [];
  if (Array.isArray(env)) {
    for (const entry of env) {
      if (typeof entry === 'string') vars.push({ name: entry, fromSecret: true });
      else for (const [name, value] of Object.entries(entry)) vars.push({ name, value });
    }
  } else {
    for (const [name, value] of Object.entries(env)) vars.push({ name, value });
  }
  const last = new Map<string, StepEnvVar>();
  for (const v of vars) {
    last.delete(v.name);
    last.set(v.name, v);
  }
  return [...last.values()];
}
