import type { GlobWork } from '../glob/glob.js';
import {
  isTemplated,
  parseTemplate,
  TemplateError,
  templateReferences,
  type ParsedTemplate,
} from '../template/index.js';
import { didYouMean } from '../text/did-you-mean.js';
import { lineColumnOffsets } from './scalar-positions.js';
import type { Reporter } from './reporter.js';
import { present, type PartialSpec } from './partial-spec.js';

/**
 * Which template variables each templated field may use, as Sourcegraph documents them
 * ("Batch spec templating"): `step` only in step outputs, `previous_step` only in steps,
 * `batch_change_link` only in the changeset body.
 */
const STEP_FIELDS = ['repository', 'batch_change', 'campaign', 'previous_step', 'steps', 'outputs'];
const OUTPUT_FIELDS = [...STEP_FIELDS, 'step'];
const CHANGESET_FIELDS = ['repository', 'batch_change', 'campaign', 'steps', 'outputs'];
const BODY_FIELDS = [...CHANGESET_FIELDS, 'batch_change_link'];

const FILE_LISTS = ['modified_files', 'added_files', 'deleted_files', 'renamed_files'];

/** The fields of each namespace; `outputs` is open (names come from the steps). */
const NAMESPACE_FIELDS: Readonly<Record<string, readonly string[] | undefined>> = {
  repository: ['name', 'branch', 'search_result_paths'],
  batch_change: ['name', 'description'],
  campaign: ['name', 'description'],
  steps: ['path', ...FILE_LISTS],
  previous_step: ['stdout', 'stderr', ...FILE_LISTS],
  step: ['stdout', 'stderr', ...FILE_LISTS],
  batch_change_link: [],
  outputs: undefined,
};

const WHERE: Readonly<Record<string, string>> = {
  step: 'only in steps[].outputs.*.value',
  previous_step: 'only in steps (run, env, files, if, outputs)',
  batch_change_link: 'only in changesetTemplate.body',
};

interface TemplatedField {
  readonly path: (string | number)[];
  readonly source: string;
  readonly namespaces: readonly string[];
}

function templatedFields(spec: PartialSpec): TemplatedField[] {
  const fields: TemplatedField[] = [];
  const add = (path: (string | number)[], source: unknown, namespaces: readonly string[]) => {
    if (typeof source === 'string') fields.push({ path, source, namespaces });
  };
  (spec.steps ?? []).forEach((step, i) => {
    if (step === undefined) return;
    add(['steps', i, 'run'], step.run, STEP_FIELDS);
    add(['steps', i, 'if'], step.if, STEP_FIELDS);
    if (Array.isArray(step.env)) {
      step.env.forEach((entry, j) => {
        if (typeof entry !== 'string') {
          for (const [name, value] of Object.entries(entry))
            add(['steps', i, 'env', j, name], value, STEP_FIELDS);
        }
      });
    } else if (step.env) {
      for (const [name, value] of Object.entries(step.env))
        add(['steps', i, 'env', name], value, STEP_FIELDS);
    }
    for (const [file, content] of Object.entries(step.files ?? {}))
      add(['steps', i, 'files', file], content, STEP_FIELDS);
    for (const [name, output] of Object.entries(step.outputs ?? {})) {
      add(['steps', i, 'outputs', name, 'value'], output.value, OUTPUT_FIELDS);
    }
  });
  const template = spec.changesetTemplate;
  if (template) {
    add(['changesetTemplate', 'title'], template.title, CHANGESET_FIELDS);
    add(['changesetTemplate', 'body'], template.body, BODY_FIELDS);
    add(['changesetTemplate', 'branch'], template.branch, CHANGESET_FIELDS);
    add(['changesetTemplate', 'commit', 'message'], template.commit?.message, CHANGESET_FIELDS);
    add(
      ['changesetTemplate', 'commit', 'author', 'name'],
      template.commit?.author?.name,
      CHANGESET_FIELDS,
    );
    add(
      ['changesetTemplate', 'commit', 'author', 'email'],
      template.commit?.author?.email,
      CHANGESET_FIELDS,
    );
  }
  (spec.transformChanges?.group ?? []).forEach((group, i) => {
    add(['transformChanges', 'group', i, 'title'], group.title, CHANGESET_FIELDS);
    add(['transformChanges', 'group', i, 'branch'], group.branch, CHANGESET_FIELDS);
  });
  return fields;
}

/**
 * Parses every templated field, reporting syntax errors and references to variables that do not
 * exist where the field is rendered, at their position in the file.
 */
export function checkTemplates(
  spec: PartialSpec,
  reporter: Reporter,
  steps: GlobWork = { remaining: Infinity },
): void {
  const definedOutputs = new Set(present(spec.steps).flatMap((s) => Object.keys(s.outputs ?? {})));
  const suggest = outputSuggestions(definedOutputs, steps);
  for (const field of templatedFields(spec)) {
    if (!isTemplated(field.source)) continue;
    const offsetOf = lineColumnOffsets(field.source);
    let parsed: ParsedTemplate;
    try {
      parsed = parseTemplate(field.source);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      const offset = offsetOf(err.position.line, err.position.column);
      reporter.inValue(field.path, offset, `template error: ${templateErrorText(err)}`);
      continue;
    }
    for (const reference of templateReferences(parsed)) {
      const offset = offsetOf(reference.position.line, reference.position.column);
      const problem = referenceProblem(reference.path, field.namespaces, definedOutputs, suggest);
      if (problem) reporter.inValue(field.path, offset, problem.message, problem.severity);
    }
  }
}

/**
 * "; did you mean …" for an output name no step defines, computed once per name; comparing with
 * every defined output costs (name length × their total length) steps of the shared budget, and
 * once it is spent there are no more suggestions.
 */
function outputSuggestions(
  definedOutputs: ReadonlySet<string>,
  steps: GlobWork,
): (name: string) => string {
  let total = 0;
  for (const name of definedOutputs) total += name.length + 1;
  const known = new Map<string, string>();
  return (name) => {
    let suggestion = known.get(name);
    if (suggestion === undefined) {
      const cost = (name.length + 1) * total;
      suggestion = '';
      if (cost <= steps.remaining) {
        steps.remaining -= cost;
        suggestion = didYouMean(name, definedOutputs);
      }
      known.set(name, suggestion);
    }
    return suggestion;
  };
}

function referenceProblem(
  path: readonly string[],
  allowed: readonly string[],
  definedOutputs: ReadonlySet<string>,
  suggest: (name: string) => string,
): { message: string; severity: 'error' | 'warning' } | undefined {
  const [namespace, field] = path;
  if (namespace === undefined) return undefined;
  const written = path.join('.');
  if (!Object.hasOwn(NAMESPACE_FIELDS, namespace)) {
    return {
      severity: 'error',
      message: `unknown template variable "${written}": "${namespace}" is not a namespace${didYouMean(namespace, allowed)} (available here: ${allowed.join(', ')})`,
    };
  }
  if (!allowed.includes(namespace)) {
    return {
      severity: 'error',
      message: `"${written}" is not available here: ${namespace} can be used ${WHERE[namespace] ?? `in ${allowed.join(', ')}`}`,
    };
  }
  if (field === undefined) return undefined;
  if (namespace === 'outputs') {
    if (!definedOutputs.has(field)) {
      return {
        severity: 'warning',
        message: `"outputs.${field}" is not defined by any step${suggest(field)}; rendering fails unless one defines it`,
      };
    }
    return undefined;
  }
  const fields = NAMESPACE_FIELDS[namespace] ?? [];
  if (!fields.includes(field)) {
    return {
      severity: 'error',
      message:
        fields.length === 0
          ? `"${written}": ${namespace} is a text and has no fields`
          : `unknown template variable "${written}"${didYouMean(field, fields)} (${namespace} has ${fields.join(', ')})`,
    };
  }
  return undefined;
}

function templateErrorText(err: TemplateError): string {
  const detail = (err as { detail?: unknown }).detail;
  return typeof detail === 'string' ? detail : err.message;
}

/**
 * The literal text of a template with each action replaced by "x" and the line breaks between
 * actions (template layout) dropped: what every rendering has in common, for checks such as
 * "can this branch template ever be a valid branch name?".
 */
export function staticTemplateText(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('${{', i);
    if (open < 0) {
      out += source.slice(i);
      break;
    }
    out += source.slice(i, open);
    let j = open + 3;
    while (j < source.length && !source.startsWith('}}', j)) {
      const ch = source[j]!;
      if (ch === '"' || ch === "'" || ch === '`') {
        const close = ch;
        j++;
        while (j < source.length && source[j] !== close)
          j += source[j] === '\\' && close !== '`' ? 2 : 1;
      }
      j++;
    }
    const action = source.slice(open + 3, j);
    // Control actions (if/else/end/range/with/define) render nothing themselves.
    if (!/^-?\s*(if|else|end|range|with|break|continue)\b/.test(action)) out += 'x';
    i = j + 2;
  }
  return out.replace(/\s*\n\s*/g, '').trim();
}
