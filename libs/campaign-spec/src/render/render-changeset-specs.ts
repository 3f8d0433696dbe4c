import { posix } from 'node:path';
import { matchesGlob } from '../glob/glob.js';
import type { CampaignSpec, PublicationState, Published } from '../spec/campaign-spec.schema.js';
import {
  parseTemplate,
  renderTemplate,
  TemplateError,
  templateReferences,
  type TemplateValue,
} from '../template/index.js';
import { invalidBranchNameReason } from '../text/git-ref.js';
import {
  ChangesetRenderError,
  type ChangedFiles,
  type ChangesetSpec,
  type FileDiff,
  type RenderContext,
  type StepResults,
  type Workspace,
} from './changeset-spec.js';

/**
 * Renders the changesetTemplate for one workspace: one ChangesetSpec for the changes outside any
 * transformChanges group, plus one per group with changes, ordered by branch. Pure and
 * deterministic: the same inputs give the same output. Returns no changeset when the steps
 * changed nothing. Throws ChangesetRenderError when a template fails or renders an unusable value.
 */
export function renderChangesetSpecs(
  spec: CampaignSpec,
  workspace: Workspace,
  stepResults: StepResults,
  context: RenderContext = {},
): ChangesetSpec[] {
  const template = spec.changesetTemplate;
  if (!template) return [];
  const data = templateData(spec, workspace, stepResults, workspace.path);

  const title = render('changesetTemplate.title', template.title, data);
  const bodyUsesLink = referencesLink(template.body);
  const renderedBody = render('changesetTemplate.body', template.body, {
    ...data,
    batch_change_link: context.campaignLink ?? '',
  });
  const body =
    context.campaignLink !== undefined && !bodyUsesLink
      ? `${renderedBody.trimEnd()}${renderedBody.trim() === '' ? '' : '\n\n'}${context.campaignLink}`
      : renderedBody;
  const branch = renderBranch('changesetTemplate.branch', template.branch, data);
  const message = render('changesetTemplate.commit.message', template.commit.message, data);
  const author = template.commit.author && {
    name: render('changesetTemplate.commit.author.name', template.commit.author.name, data),
    email: render('changesetTemplate.commit.author.email', template.commit.author.email, data),
  };

  const groups = (spec.transformChanges?.group ?? [])
    .map((group, index) => ({ ...group, index }))
    .filter((g) => g.repository === undefined || g.repository === workspace.repository);
  const partitions = partitionFiles(
    stepResults,
    groups.map((g) => g.directory),
  );

  const specs: ChangesetSpec[] = [];
  partitions.forEach((partition, i) => {
    if (isEmpty(partition.files)) return;
    const group = groups[i];
    const base = {
      repository: workspace.repository,
      baseRef: workspace.branch,
      baseRevision: workspace.baseRevision,
      body,
      commit: author ? { message, author } : { message },
      fork: template.fork,
      files: partition.files,
      ...(partition.diff !== undefined ? { diff: partition.diff } : {}),
    };
    if (!group) {
      specs.push({
        ...base,
        headRef: branch,
        title,
        published: publication(template.published, workspace.repository, branch),
      });
      return;
    }
    const groupData = templateData(spec, workspace, stepResults, group.directory);
    const headRef = renderBranch(
      `transformChanges.group[${group.index}].branch`,
      group.branch,
      groupData,
    );
    const groupTitle =
      group.title === undefined
        ? title
        : render(`transformChanges.group[${group.index}].title`, group.title, groupData);
    specs.push({
      ...base,
      headRef,
      title: groupTitle,
      published: publication(template.published, workspace.repository, headRef),
      group: { directory: group.directory },
    });
  });
  return specs.sort((a, b) => (a.headRef < b.headRef ? -1 : a.headRef > b.headRef ? 1 : 0));
}

/**
 * The publication state for a repository and branch: the flag itself, or the last entry of the
 * list whose GLOB matches the repository (and whose @BRANCH, if any, matches the branch).
 * Omitted, null or no matching entry means false (unpublished).
 */
export function publication(
  published: Published | null | undefined,
  repository: string,
  branch: string,
): PublicationState {
  if (published === undefined || published === null) return false;
  if (!Array.isArray(published)) return published;
  let state: PublicationState = false;
  for (const rule of published) {
    for (const [key, value] of Object.entries(rule)) {
      const at = key.indexOf('@');
      const repositoryGlob = at < 0 ? key : key.slice(0, at);
      const branchGlob = at < 0 ? undefined : key.slice(at + 1);
      if (
        matchesGlob(repositoryGlob, repository) &&
        (branchGlob === undefined || matchesGlob(branchGlob, branch))
      ) {
        state = value;
      }
    }
  }
  return state;
}

/**
 * The template data every template of a workspace sees, steps' and changesetTemplate's alike:
 * `repository` and `campaign` (also as Sourcegraph's `batch_change`).
 */
export function workspaceTemplateData(
  spec: CampaignSpec,
  workspace: Pick<Workspace, 'repository' | 'branch' | 'searchResultPaths'>,
): Record<string, TemplateValue> {
  const campaign = { name: spec.name, description: spec.description };
  return {
    repository: {
      name: workspace.repository,
      branch: workspace.branch,
      search_result_paths: [...workspace.searchResultPaths],
    },
    campaign,
    batch_change: campaign,
  };
}

function templateData(
  spec: CampaignSpec,
  workspace: Workspace,
  results: StepResults,
  stepsPath: string,
): Record<string, TemplateValue> {
  return {
    ...workspaceTemplateData(spec, workspace),
    steps: {
      path: stepsPath,
      modified_files: [...results.files.modified],
      added_files: [...results.files.added],
      deleted_files: [...results.files.deleted],
      renamed_files: [...results.files.renamed],
    },
    outputs: { ...results.outputs },
  };
}

function render(field: string, source: string, data: Record<string, TemplateValue>): string {
  try {
    return renderTemplate(parseTemplate(source), data);
  } catch (err) {
    if (err instanceof TemplateError) {
      throw new ChangesetRenderError(field, `template error: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function renderBranch(field: string, source: string, data: Record<string, TemplateValue>): string {
  const branch = render(field, source, data).trim();
  const reason = invalidBranchNameReason(branch);
  if (reason)
    throw new ChangesetRenderError(
      field,
      `rendered to "${branch}", which is not a valid branch name: ${reason}`,
    );
  return branch;
}

function referencesLink(body: string): boolean {
  if (!body.includes('batch_change_link')) return false;
  try {
    return templateReferences(parseTemplate(body)).some((r) => r.path[0] === 'batch_change_link');
  } catch {
    return false;
  }
}

interface Partition {
  files: ChangedFiles;
  diff?: string;
}

/**
 * Splits the changed files into one partition per group directory (the last group whose
 * directory contains a file takes it) and a last partition for files in no group.
 */
function partitionFiles(results: StepResults, directories: readonly string[]): Partition[] {
  const normalized = directories.map((d) =>
    posix.normalize(d.replace(/^\/+/, '')).replace(/\/+$/, ''),
  );
  const owner = (path: string): number => {
    for (let g = normalized.length - 1; g >= 0; g--) {
      const dir = normalized[g]!;
      if (dir === '.' || dir === '' || path === dir || path.startsWith(`${dir}/`)) return g;
    }
    return normalized.length;
  };
  const partitions = Array.from({ length: normalized.length + 1 }, () => ({
    modified: [] as string[],
    added: [] as string[],
    deleted: [] as string[],
    renamed: [] as string[],
    diffs: [] as FileDiff[],
  }));
  for (const kind of ['modified', 'added', 'deleted', 'renamed'] as const) {
    for (const path of results.files[kind]) partitions[owner(path)]![kind].push(path);
  }
  for (const fileDiff of results.fileDiffs ?? [])
    partitions[owner(fileDiff.path)]!.diffs.push(fileDiff);
  return partitions.map((p) => ({
    files: {
      modified: [...p.modified].sort(),
      added: [...p.added].sort(),
      deleted: [...p.deleted].sort(),
      renamed: [...p.renamed].sort(),
    },
    ...(results.fileDiffs !== undefined
      ? {
          diff: [...p.diffs]
            .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
            .map((d) => d.patch)
            .join(''),
        }
      : {}),
  }));
}

function isEmpty(files: ChangedFiles): boolean {
  return (
    files.modified.length + files.added.length + files.deleted.length + files.renamed.length === 0
  );
}
