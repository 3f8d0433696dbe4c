import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  evaluateCondition,
  parseTemplate,
  renderTemplate,
  stepEnvironment,
  TemplateError,
  type ChangedFiles,
  type Step,
  type StepResult,
  type TemplateValue,
} from '@campaigns/campaign-spec';
import { StepFailed } from './step-failure.js';

/**
 * Deciding what a step runs, from the spec and the template context: its script, environment,
 * `files:`, `if:` and outputs. Pure (no Docker, no file system, no processes); every problem is
 * thrown as a `StepFailed` the step loop returns.
 */

/** A step as its container receives it. */
export interface RenderedStep {
  /** The `run` script, rendered. */
  readonly script: string;
  /** NAME=value pairs from the spec, given to the engine as the container's Env. */
  readonly env: readonly string[];
  /** Secrets by name; they go through a memory-backed file instead of the engine's Env. */
  readonly secrets: ReadonlyMap<string, string>;
  /** Container paths of the `files:` entries (absolute, outside /work). */
  readonly filePaths: readonly string[];
  /** Their rendered contents, in `filePaths` order. */
  readonly files: readonly string[];
}

/** What the templates of one step see besides the `templateData` of the workspace. */
export interface StepContext {
  /** The previous step that ran or was skipped (none before the first). */
  readonly previous: Pick<StepResult, 'stdout' | 'stderr' | 'files'> | undefined;
  /** The files changed by the steps so far, against the base commit. */
  readonly cumulative: ChangedFiles;
  /** The workspace's directory in the repository (`''` for the root). */
  readonly path: string;
  /** The outputs of the steps so far. */
  readonly outputs: Readonly<Record<string, TemplateValue>>;
}

/** No file changed (a skipped step, an empty diff). */
export const NO_FILES: ChangedFiles = { modified: [], added: [], deleted: [], renamed: [] };

function filesData(files: ChangedFiles): Record<string, TemplateValue> {
  return {
    modified_files: [...files.modified],
    added_files: [...files.added],
    deleted_files: [...files.deleted],
    renamed_files: [...files.renamed],
  };
}

/** `previous_step` and `step`: a step's changed files and output. */
export function stepData(
  step: Pick<StepResult, 'stdout' | 'stderr' | 'files'> | undefined,
): Record<string, TemplateValue> {
  return {
    ...filesData(step?.files ?? NO_FILES),
    stdout: step?.stdout ?? '',
    stderr: step?.stderr ?? '',
  };
}

/** The data a step's templates are rendered with. */
export function stepTemplateData(
  templateData: Readonly<Record<string, TemplateValue>> | undefined,
  context: StepContext,
): Record<string, TemplateValue> {
  return {
    ...templateData,
    previous_step: stepData(context.previous),
    steps: { ...filesData(context.cumulative), path: context.path },
    outputs: { ...context.outputs },
  };
}

function templateFailure(stepIndex: number, field: string, err: unknown): never {
  if (err instanceof TemplateError) {
    throw new StepFailed({
      reason: 'template',
      stepIndex,
      message: `step ${stepIndex + 1} ${field}: template error: ${err.message}`,
    });
  }
  throw err;
}

function render(
  source: string,
  data: Record<string, TemplateValue>,
  stepIndex: number,
  field: string,
): string {
  try {
    return renderTemplate(parseTemplate(source), data);
  } catch (err) {
    return templateFailure(stepIndex, field, err);
  }
}

/** Whether the step runs: its `if:`, a boolean or a template condition (absent: it runs). */
export function stepCondition(
  step: Step,
  stepIndex: number,
  data: Record<string, TemplateValue>,
): boolean {
  if (step.if == null) return true;
  if (typeof step.if === 'boolean') return step.if;
  try {
    return evaluateCondition(parseTemplate(step.if), data);
  } catch (err) {
    return templateFailure(stepIndex, 'if', err);
  }
}

/** The step's `outputs:`, rendered (with `step` = the step's own result) and parsed by format. */
export function renderStepOutputs(
  step: Step,
  stepIndex: number,
  data: Record<string, TemplateValue>,
): Record<string, TemplateValue> {
  const rendered: Record<string, TemplateValue> = {};
  for (const [name, output] of Object.entries(step.outputs ?? {})) {
    const text = render(output.value, data, stepIndex, `outputs.${name}`);
    try {
      rendered[name] =
        output.format === 'json'
          ? (JSON.parse(text) as TemplateValue)
          : output.format === 'yaml'
            ? ((parseYaml(text) ?? null) as TemplateValue)
            : text;
    } catch (err) {
      throw new StepFailed({
        reason: 'template',
        stepIndex,
        message: `step ${stepIndex + 1} outputs.${name}: the value is not valid ${output.format}: ${(err as Error).message}`,
      });
    }
  }
  return rendered;
}

function resolveEnvironment(
  step: Step,
  stepIndex: number,
  secrets: Readonly<Record<string, string>>,
  data: Record<string, TemplateValue>,
): Pick<RenderedStep, 'env' | 'secrets'> {
  const env: string[] = [];
  const secret = new Map<string, string>();
  for (const variable of stepEnvironment(step)) {
    if ('fromSecret' in variable) {
      if (!Object.hasOwn(secrets, variable.name)) {
        throw new StepFailed({
          reason: 'missing-secret',
          stepIndex,
          message: `step ${stepIndex + 1} needs the secret ${variable.name}, which the executor does not have`,
        });
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable.name)) {
        throw new StepFailed({
          reason: 'missing-secret',
          stepIndex,
          message: `step ${stepIndex + 1}: the secret name ${variable.name} is not a shell variable name`,
        });
      }
      secret.set(variable.name, secrets[variable.name]!);
    } else {
      const value = render(variable.value, data, stepIndex, `env.${variable.name}`);
      env.push(`${variable.name}=${value}`);
    }
  }
  return { env, secrets: secret };
}

/**
 * Renders the step's `run`, its environment (secrets apart, by name from `secrets`) and its
 * `files:`, which must lie outside the workspace (/work): in that order, so the first problem of
 * the step is the one reported.
 */
export function renderStep(
  step: Step,
  stepIndex: number,
  data: Record<string, TemplateValue>,
  secrets: Readonly<Record<string, string>>,
): RenderedStep {
  const script = render(step.run, data, stepIndex, 'run');
  const environment = resolveEnvironment(step, stepIndex, secrets, data);
  const filePaths: string[] = [];
  const files: string[] = [];
  for (const [target, content] of Object.entries(step.files ?? {})) {
    const containerPath = posix.resolve('/', target);
    if (containerPath === '/work' || containerPath.startsWith('/work/')) {
      throw new StepFailed({
        reason: 'invalid-files',
        stepIndex,
        message: `step ${stepIndex + 1} files: ${target} is inside the workspace (/work); files are for the container only`,
      });
    }
    // One host file per entry, mounted read-only at its path: the workspace never sees it.
    filePaths.push(containerPath);
    files.push(render(content, data, stepIndex, `files.${target}`));
  }
  return { script, ...environment, filePaths, files };
}
