import { posix } from 'node:path';
import { GlobError, globProblem, literalPrefix, matchesGlob, type GlobWork } from '../glob/glob.js';
import { parseSearchQuery } from '../query/parse-query.js';
import { branchesConflict, invalidBranchNameReason } from '../text/git-ref.js';
import { displayPath } from './diagnostics.js';
import { findBranchConflicts, findWorkspaceOverlaps, SortedNames } from './pairwise-checks.js';
import { present, type PartialSpec } from './partial-spec.js';
import { CappedProblems, type Reporter } from './reporter.js';
import { checkTemplates, staticTemplateText } from './template-checks.js';
import { MAX_CHECK_STEPS, newSpecWork, type SpecWork } from './work.js';

/**
 * Checks a JSON Schema cannot express. Each reports the problems it finds; checks that compare
 * entries with each other list the first few of a kind and count the rest, and share a budget of
 * MAX_CHECK_STEPS comparisons (counted in `work.checkSteps`). `written` is the spec as read, for
 * checks that must not wait for a whole section to be valid.
 */
export function runSemanticChecks(
  spec: PartialSpec,
  written: Readonly<Record<string, unknown>>,
  reporter: Reporter,
  work: SpecWork = newSpecWork(),
): void {
  const steps: GlobWork = { remaining: MAX_CHECK_STEPS };
  const hasSteps = Array.isArray(written.steps) && written.steps.length > 0;
  if (hasSteps && written.changesetTemplate === undefined) {
    reporter.key(
      ['steps'],
      'a spec with steps needs a changesetTemplate that describes the changesets to create',
    );
  }
  checkOn(spec, reporter);
  checkWorkspaces(spec, reporter, steps);
  checkSteps(spec, reporter);
  checkTransformChanges(spec, reporter, work);
  checkImportChangesets(spec, reporter);
  checkChangesetTemplate(spec, reporter, steps);
  checkAutoMerge(spec, reporter);
  checkTemplates(spec, reporter, steps);
  work.checkSteps += MAX_CHECK_STEPS - steps.remaining;
}

/** The warning for a comparing check that stopped because the shared budget ran out. */
function budgetSpent(what: string): string {
  return `stopped ${what} after ${MAX_CHECK_STEPS} comparisons; the rest is checked when the campaign is applied`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TEMPLATE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkRepositoryName(reporter: Reporter, path: (string | number)[], name: string): void {
  if (name.trim() === '' || /\s/.test(name)) {
    reporter.value(
      path,
      `${displayPath(path)} must be a repository name like github.com/OWNER/NAME`,
    );
  } else if (name.split('/').filter(Boolean).length < 3) {
    reporter.value(
      path,
      `${displayPath(path)} "${name}" does not look like HOST/OWNER/NAME (e.g. github.com/acme/api)`,
      'warning',
    );
  }
}

function checkBranchName(reporter: Reporter, path: (string | number)[], branch: string): void {
  const reason = invalidBranchNameReason(branch);
  if (reason)
    reporter.value(path, `${displayPath(path)} "${branch}" is not a valid branch name: ${reason}`);
}

function checkOn(spec: PartialSpec, reporter: Reporter): void {
  const version = spec.version ?? 1;
  (spec.on ?? []).forEach((entry, i) => {
    if (entry === undefined) return; // dropped as invalid; its error is already reported
    if ('repositoriesMatchingQuery' in entry) {
      const path = ['on', i, 'repositoriesMatchingQuery'];
      const query = entry.repositoriesMatchingQuery;
      if (query.trim() === '') {
        reporter.value(path, `${displayPath(path)} must not be empty`);
        return;
      }
      const result = parseSearchQuery(query, { version });
      for (const d of [...result.errors, ...result.warnings]) {
        reporter.inValue(path, d.span.start, `in the query: ${d.message}`, d.severity);
      }
      return;
    }
    checkRepositoryName(reporter, ['on', i, 'repository'], entry.repository);
    if (entry.branch !== undefined) checkBranchName(reporter, ['on', i, 'branch'], entry.branch);
    entry.branches?.forEach((b, j) => checkBranchName(reporter, ['on', i, 'branches', j], b));
    if (entry.branches?.length === 0) {
      reporter.value(
        ['on', i, 'branches'],
        `on[${i}].branches is empty: the default branch is used`,
        'warning',
      );
    }
  });
}

function checkWorkspaces(spec: PartialSpec, reporter: Reporter, steps: GlobWork): void {
  const workspaces = spec.workspaces ?? [];
  const globs: { index: number; glob: string }[] = [];
  let complete = true;
  workspaces.forEach((w, i) => {
    if (w === undefined) return; // dropped as invalid; its error is already reported
    const problem = complete ? globProblem(w.in, steps) : undefined;
    if (steps.remaining < 0) {
      complete = false;
    } else if (problem) {
      reporter.value(
        ['workspaces', i, 'in'],
        `workspaces[${i}].in is not a valid glob: ${problem}`,
      );
    } else {
      globs.push({ index: i, glob: w.in });
    }
    if (w.rootAtLocationOf.includes('/')) {
      reporter.value(
        ['workspaces', i, 'rootAtLocationOf'],
        `workspaces[${i}].rootAtLocationOf must be a file name, not a path ("${posix.basename(w.rootAtLocationOf)}")`,
      );
    }
  });
  const named = [
    ...present(spec.on).flatMap((e) => ('repository' in e ? [e.repository] : [])),
    ...present(spec.importChangesets).map((c) => c.repository),
  ];
  const found = findWorkspaceOverlaps(globs, named, steps);
  const overlaps = found.overlaps;
  complete &&= found.complete;
  const listed = new CappedProblems(reporter);
  for (const { later, earlier, shared } of overlaps) {
    listed.value(
      ['workspaces', later, 'in'],
      `workspaces[${later}] and workspaces[${earlier}] both match ${shared === undefined ? 'every repository it matches' : `"${shared}"`}; a repository may be matched by one workspace entry only`,
    );
  }
  listed.finish(
    (more, first) =>
      `and ${more} more workspace entries match a repository that an earlier entry matches (only the first ${first} are listed)`,
  );
  if (!complete) {
    reporter.key(
      ['workspaces'],
      budgetSpent('checking the workspace globs and which repositories they share'),
      'warning',
    );
  }
}

function checkSteps(spec: PartialSpec, reporter: Reporter): void {
  const steps = spec.steps ?? [];
  steps.forEach((step, i) => {
    if (step === undefined) return;
    const env = step.env;
    if (Array.isArray(env)) {
      env.forEach((entry, j) => {
        const path = ['steps', i, 'env', j];
        if (typeof entry === 'string') {
          if (!ENV_NAME.test(entry)) {
            reporter.value(
              path,
              `${displayPath(path)} "${entry}" is not an environment variable name (letters, digits and _, not starting with a digit)`,
            );
          }
          return;
        }
        const names = Object.keys(entry);
        if (names.length !== 1) {
          reporter.value(
            path,
            `${displayPath(path)} must have exactly one NAME: value, not ${names.length}`,
          );
        }
        for (const name of names) {
          if (!ENV_NAME.test(name)) {
            reporter.key(
              [...path, name],
              `"${name}" is not an environment variable name (letters, digits and _, not starting with a digit)`,
            );
          }
        }
      });
    } else if (env) {
      for (const name of Object.keys(env)) {
        if (!ENV_NAME.test(name)) {
          reporter.key(
            ['steps', i, 'env', name],
            `"${name}" is not an environment variable name (letters, digits and _, not starting with a digit)`,
          );
        }
      }
    }
    for (const [name, output] of Object.entries(step.outputs ?? {})) {
      const path = ['steps', i, 'outputs', name];
      if (!TEMPLATE_IDENTIFIER.test(name)) {
        reporter.key(
          path,
          `output name "${name}" cannot be used as outputs.${name} in templates; use letters, digits and _`,
          'warning',
        );
      }
      for (const key of Object.keys(output)) {
        if (key !== 'value' && key !== 'format') {
          reporter.key(
            [...path, key],
            `unknown key "${key}" in ${displayPath(path)} is ignored; an output has "value" and "format"`,
            'warning',
          );
        }
      }
    }
    for (const [file] of Object.entries(step.files ?? {})) {
      if (file.trim() === '')
        reporter.key(['steps', i, 'files', file], 'a file path must not be empty');
    }
    if (
      typeof step.if === 'string' &&
      !step.if.includes('${{') &&
      !['true', 'false'].includes(step.if.trim())
    ) {
      reporter.value(
        ['steps', i, 'if'],
        `steps[${i}].if is the text "${step.if}", which is never "true": the step never runs`,
        'warning',
      );
    }
    if (step.allow_network !== undefined) {
      reporter.key(
        ['steps', i, 'allow_network'],
        'allow_network is ignored: steps always have network access',
        'warning',
      );
    }
    // The spec reaches the services as text: local files it names never reach an executor. As
    // with Sourcegraph's server-side execution, mounting is refused rather than silently skipped.
    if (step.mount != null && step.mount.length > 0) {
      reporter.key(
        ['steps', i, 'mount'],
        `steps[${i}].mount is not supported: only the spec's text is applied, so files on your machine never reach the executors; put small files in steps[${i}].files, larger ones in the step's container image`,
      );
    }
  });
}

function checkTransformChanges(spec: PartialSpec, reporter: Reporter, work: SpecWork): void {
  const groups = spec.transformChanges?.group ?? [];
  const templateBranch = spec.changesetTemplate?.branch;
  const staticTemplateBranch =
    templateBranch !== undefined && !templateBranch.includes('${{')
      ? templateBranch.trim()
      : undefined;
  const branches = new Map<string, number>();
  const directories = new Map<string, number>();
  groups.forEach((group, i) => {
    const branchPath = ['transformChanges', 'group', i, 'branch'];
    if (!group.branch.includes('${{')) checkBranchName(reporter, branchPath, group.branch);
    const earlier = branches.get(group.branch);
    if (earlier !== undefined) {
      reporter.value(
        branchPath,
        `branch "${group.branch}" is already used by transformChanges.group[${earlier}]; each group needs its own branch`,
      );
    } else {
      branches.set(group.branch, i);
    }
    if (staticTemplateBranch !== undefined && group.branch === staticTemplateBranch) {
      reporter.value(
        branchPath,
        `branch "${group.branch}" is changesetTemplate.branch; a group needs a branch of its own`,
      );
    } else if (
      staticTemplateBranch !== undefined &&
      branchesConflict(group.branch, staticTemplateBranch)
    ) {
      reporter.value(
        branchPath,
        `branch "${group.branch}" cannot coexist with changesetTemplate.branch "${staticTemplateBranch}" in Git (one is a directory of the other)`,
      );
    }
    const directory = posix.normalize(group.directory.replace(/^\/+/, '')).replace(/\/+$/, '');
    const key = `${group.repository ?? '*'}\0${directory}`;
    const before = directories.get(key);
    if (before !== undefined) {
      reporter.value(
        ['transformChanges', 'group', i, 'directory'],
        `directory "${group.directory}" is also grouped by transformChanges.group[${before}]; only the last group applies`,
        'warning',
      );
    }
    directories.set(key, i);
    if (directory.startsWith('..')) {
      reporter.value(
        ['transformChanges', 'group', i, 'directory'],
        `directory "${group.directory}" is outside the repository`,
      );
    }
    if (group.repository !== undefined)
      checkRepositoryName(
        reporter,
        ['transformChanges', 'group', i, 'repository'],
        group.repository,
      );
  });
  const conflicting = new CappedProblems(reporter);
  for (const { index, other } of findBranchConflicts(
    groups.map((g) => g?.branch),
    work,
  )) {
    conflicting.value(
      ['transformChanges', 'group', index, 'branch'],
      `branch "${groups[index]!.branch}" cannot coexist with "${groups[other]!.branch}" of transformChanges.group[${other}] in Git (one is a directory of the other)`,
    );
  }
  conflicting.finish(
    (more, first) =>
      `and ${more} more groups whose branch cannot coexist with an earlier group's in Git (only the first ${first} are listed)`,
  );
}

function checkImportChangesets(spec: PartialSpec, reporter: Reporter): void {
  (spec.importChangesets ?? []).forEach((entry, i) => {
    if (entry === undefined) return; // dropped as invalid; its error is already reported
    checkRepositoryName(reporter, ['importChangesets', i, 'repository'], entry.repository);
    const seen = new Map<string, { index: number; value: number | string }>();
    entry.externalIDs.forEach((id, j) => {
      const path = ['importChangesets', i, 'externalIDs', j];
      const key = String(id).trim();
      const earlier = seen.get(key);
      if (earlier && earlier.value === id) {
        reporter.value(
          path,
          `external ID ${JSON.stringify(id)} is listed twice (also at index ${earlier.index})`,
        );
      } else if (earlier) {
        reporter.value(
          path,
          `external ID ${JSON.stringify(id)} is the same changeset as ${JSON.stringify(earlier.value)} at index ${earlier.index}`,
          'warning',
        );
      } else {
        seen.set(key, { index: j, value: id });
      }
      if (key === '') reporter.value(path, 'an external ID must not be empty');
    });
  });
}

function checkChangesetTemplate(spec: PartialSpec, reporter: Reporter, steps: GlobWork): void {
  const template = spec.changesetTemplate;
  if (!template) return;
  if (template.branch !== undefined) checkTemplateBranch(spec, template.branch, reporter);
  const email = template.commit?.author?.email;
  if (email !== undefined && !email.includes('${{') && !/^[^\s@<>]+@[^\s@<>]+$/.test(email)) {
    reporter.value(
      ['changesetTemplate', 'commit', 'author', 'email'],
      `"${email}" is not an email address`,
    );
  }
  checkPublished(spec, reporter, steps);
}

/**
 * Auto-merge merges the changesets the template publishes ready for review: a spec that
 * publishes none (no template, `published` omitted, false, "draft", or a list without a true
 * entry) would never merge anything, which is refused rather than silently ignored.
 */
function checkAutoMerge(spec: PartialSpec, reporter: Reporter): void {
  if (spec['x-campaigns']?.autoMerge === undefined) return;
  const path = ['x-campaigns', 'autoMerge'];
  const template = spec.changesetTemplate;
  if (template === undefined) {
    reporter.value(
      path,
      'x-campaigns.autoMerge merges the changesets changesetTemplate creates, and this spec has no changesetTemplate (imported changesets are never merged)',
    );
    return;
  }
  const published = template.published;
  const states = Array.isArray(published)
    ? published.flatMap((rule) => Object.values(rule))
    : [published ?? false];
  if (states.includes(true)) return;
  reporter.value(
    path,
    'x-campaigns.autoMerge needs changesets published ready for review, but changesetTemplate.published publishes none (a draft cannot be merged); set it to true, or to a list with a true entry',
  );
}

function checkTemplateBranch(spec: PartialSpec, branch: string, reporter: Reporter): void {
  const branchPath = ['changesetTemplate', 'branch'];
  if (branch.includes('${{')) {
    const text = staticTemplateText(branch);
    const reason = text === '' ? undefined : invalidBranchNameReason(text);
    if (reason) {
      reporter.value(
        branchPath,
        `changesetTemplate.branch cannot render to a valid branch name: ${reason}`,
      );
    }
  } else {
    checkBranchName(reporter, branchPath, branch.trim());
  }
  if (!branch.includes('${{')) {
    const several = present(spec.on).find(
      (e) => 'repository' in e && new Set(e.branches ?? []).size > 1,
    );
    if (several && 'repository' in several) {
      reporter.value(
        branchPath,
        `changesetTemplate.branch is the same for every branch of ${several.repository} (${[...new Set(several.branches)].join(', ')}), so their changesets would collide; include \${{ repository.branch }}`,
      );
    } else if ((spec.workspaces ?? []).length > 0) {
      reporter.value(
        branchPath,
        'with workspaces, a repository can hold several projects whose changesets would share this branch; include ${{ steps.path }} (e.g. ${{ replace steps.path "/" "-" }})',
        'warning',
      );
    }
  }
}

function checkPublished(spec: PartialSpec, reporter: Reporter, steps: GlobWork): void {
  const published = spec.changesetTemplate?.published;
  if (!Array.isArray(published)) return;
  const onlyExplicit = present(spec.on).every((e) => 'repository' in e);
  const explicit = present(spec.on).flatMap((e) => ('repository' in e ? [e.repository] : []));
  const explicitRepositories = new SortedNames(explicit);
  const explicitHosts = explicit.map((name) => name.split('/')[0]!);
  /** Whether the glob matches a repository of `on`, trying only those with its literal prefix. */
  const matchesSome = (glob: string): boolean => {
    try {
      for (const repository of explicitRepositories.withPrefix(literalPrefix(glob))) {
        steps.remaining -= 1;
        if (matchesGlob(glob, repository, steps)) return true;
      }
      return false;
    } catch (err) {
      if (err instanceof GlobError && steps.remaining < 0) return true; // not known: say nothing
      throw err;
    }
  };
  for (const [i, rule] of published.entries()) {
    if (steps.remaining < 0) break;
    const path = ['changesetTemplate', 'published', i];
    const keys = Object.keys(rule);
    if (keys.length !== 1) {
      reporter.value(
        path,
        `changesetTemplate.published[${i}] must have exactly one GLOB: value, not ${keys.length}`,
      );
      continue;
    }
    const key = keys[0]!;
    const at = key.indexOf('@');
    const repositoryGlob = at < 0 ? key : key.slice(0, at);
    const branchGlob = at < 0 ? undefined : key.slice(at + 1);
    const problem =
      globProblem(repositoryGlob, steps) ??
      (branchGlob ? globProblem(branchGlob, steps) : undefined);
    if (steps.remaining < 0) break;
    if (problem) {
      reporter.key([...path, key], `"${key}" is not a valid glob: ${problem}`);
    } else if (branchGlob === '') {
      reporter.key([...path, key], `"${key}" has an empty branch after "@"`);
    } else if (onlyExplicit && !matchesSome(repositoryGlob)) {
      // Written without the host (acme/* for github.com/acme/*) is the usual mistake.
      const qualified = [...new Set(explicitHosts)]
        .map((host) => `${host}/${repositoryGlob}`)
        // A host that is not valid in a glob ("{" of a typo) cannot be the suggestion.
        .find((glob) => globProblem(glob, steps) === undefined && matchesSome(glob));
      reporter.key(
        [...path, key],
        qualified === undefined
          ? `"${repositoryGlob}" matches no repository in "on"; this entry never applies`
          : `"${repositoryGlob}" matches no repository in "on": patterns are matched against HOST/OWNER/NAME; did you mean "${qualified}"?`,
        'warning',
      );
    }
  }
  if (steps.remaining < 0) {
    reporter.key(
      ['changesetTemplate', 'published'],
      budgetSpent(
        'checking the changesetTemplate.published globs and which repositories they match',
      ),
      'warning',
    );
  }
}
