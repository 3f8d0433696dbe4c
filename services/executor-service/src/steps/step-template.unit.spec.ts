import { describe, expect, it } from '@jest/globals';
import type { Step, TemplateValue } from '@campaigns/campaign-spec';
import { StepFailed, type StepFailure } from './step-failure.js';
import {
  NO_FILES,
  renderStep,
  renderStepOutputs,
  stepCondition,
  stepData,
  stepTemplateData,
} from './step-template.js';

function step(run: string, extra: Partial<Step> = {}): Step {
  return { run, container: 'alpine:3', ...extra } as Step;
}

const repository = { name: 'example.com/acme/api', branch: 'main', search_result_paths: [] };

/** The failure a templating call throws. */
function failureOf(action: () => unknown): StepFailure {
  try {
    action();
  } catch (err) {
    if (err instanceof StepFailed) return err.failure;
    throw err;
  }
  throw new Error('expected a StepFailed');
}

describe('stepTemplateData', () => {
  it('given the steps so far, then templates see the previous step, the cumulative files, the path and the outputs', () => {
    // Given a previous step that added a file and printed, and one output so far.
    const outputs: Record<string, TemplateValue> = { count: '2' };
    const data = stepTemplateData(
      { repository },
      {
        previous: {
          stdout: 'out\n',
          stderr: 'err\n',
          files: { ...NO_FILES, added: ['new.txt'] },
        },
        cumulative: { ...NO_FILES, modified: ['README.md'], added: ['new.txt'] },
        path: 'packages/api',
        outputs,
      },
    );
    // Then each namespace holds what the step spec documents.
    expect(data).toEqual({
      repository,
      previous_step: {
        modified_files: [],
        added_files: ['new.txt'],
        deleted_files: [],
        renamed_files: [],
        stdout: 'out\n',
        stderr: 'err\n',
      },
      steps: {
        modified_files: ['README.md'],
        added_files: ['new.txt'],
        deleted_files: [],
        renamed_files: [],
        path: 'packages/api',
      },
      outputs: { count: '2' },
    });
    // And later outputs do not reach data already rendered.
    outputs['later'] = 'x';
    expect(data['outputs']).toEqual({ count: '2' });
  });

  it('given no previous step, then previous_step is empty', () => {
    expect(stepData(undefined)).toEqual({
      modified_files: [],
      added_files: [],
      deleted_files: [],
      renamed_files: [],
      stdout: '',
      stderr: '',
    });
  });
});

describe('stepCondition', () => {
  const data = stepTemplateData(
    { repository },
    { previous: undefined, cumulative: NO_FILES, path: '', outputs: {} },
  );

  it('given no if:, a boolean, or a template, then it decides whether the step runs', () => {
    expect(stepCondition(step('true'), 0, data)).toBe(true);
    expect(stepCondition(step('true', { if: false }), 0, data)).toBe(false);
    expect(stepCondition(step('true', { if: '${{ eq previous_step.stdout "" }}' }), 0, data)).toBe(
      true,
    );
    expect(stepCondition(step('true', { if: '${{ eq repository.name "other" }}' }), 0, data)).toBe(
      false,
    );
  });

  it('given an if: that does not parse, then the step fails as a template problem of its if:', () => {
    expect(failureOf(() => stepCondition(step('true', { if: '${{ eq ' }), 2, data))).toMatchObject({
      reason: 'template',
      stepIndex: 2,
      message: expect.stringContaining('step 3 if: template error'),
    });
  });
});

describe('renderStep', () => {
  const data = stepTemplateData(
    { repository },
    { previous: undefined, cumulative: NO_FILES, path: '', outputs: { count: '2' } },
  );

  it('given a step with templates, env, secrets and files, then it renders each and keeps secrets apart', () => {
    // Given a step that uses every kind of input.
    const spec = step('echo ${{ repository.name }} ${{ outputs.count }}', {
      env: [{ PLAIN: 'for ${{ repository.branch }}' }, 'API_TOKEN'],
      files: { 'etc/campaign/config': 'name: ${{ repository.name }}\n' },
    });
    // When it is rendered with the executor's secrets.
    const rendered = renderStep(spec, 0, data, { API_TOKEN: 'token-value-0123', OTHER: 'unused' });
    // Then the script and files are rendered, plain env goes to Env, the secret stays by name.
    expect(rendered).toEqual({
      script: 'echo example.com/acme/api 2',
      env: ['PLAIN=for main'],
      secrets: new Map([['API_TOKEN', 'token-value-0123']]),
      filePaths: ['/etc/campaign/config'],
      files: ['name: example.com/acme/api\n'],
    });
  });

  it('given a secret the executor does not have, then it fails naming the secret', () => {
    expect(
      failureOf(() => renderStep(step('true', { env: ['MISSING_TOKEN'] }), 1, data, {})),
    ).toEqual({
      reason: 'missing-secret',
      stepIndex: 1,
      message: 'step 2 needs the secret MISSING_TOKEN, which the executor does not have',
    });
  });

  it('given a secret whose name is no shell variable, then it fails', () => {
    const failure = failureOf(() =>
      renderStep(step('true', { env: ['BAD-NAME'] }), 0, data, { 'BAD-NAME': 'value-012345' }),
    );
    expect(failure).toMatchObject({
      reason: 'missing-secret',
      message: 'step 1: the secret name BAD-NAME is not a shell variable name',
    });
  });

  it('given a file inside the workspace, then it fails: files are for the container only', () => {
    for (const target of ['/work', '/work/x', 'work/../work/y']) {
      expect(
        failureOf(() => renderStep(step('true', { files: { [target]: 'x' } }), 0, data, {})),
      ).toMatchObject({
        reason: 'invalid-files',
        message: `step 1 files: ${target} is inside the workspace (/work); files are for the container only`,
      });
    }
  });

  it('given several broken fields, then the run script is reported first, then env, then files', () => {
    const broken = '${{ outputs.nope.deeper }}';
    const failures = [
      step(broken, { env: { A: broken }, files: { '/tmp/f': broken } }),
      step('true', { env: { A: broken }, files: { '/tmp/f': broken } }),
      step('true', { files: { '/tmp/f': broken } }),
    ].map((s) => failureOf(() => renderStep(s, 0, data, {})).message);
    expect(failures.map((m) => m.split(':')[0])).toEqual([
      'step 1 run',
      'step 1 env.A',
      'step 1 files./tmp/f',
    ]);
  });
});

describe('renderStepOutputs', () => {
  const data = {
    ...stepTemplateData({}, { previous: undefined, cumulative: NO_FILES, path: '', outputs: {} }),
    step: stepData({
      stdout: '{"name": "api", "tags": ["x", "y"]}\n',
      stderr: '',
      files: NO_FILES,
    }),
  };

  it('given text, json and yaml outputs, then each is parsed by its format', () => {
    const spec = step('true', {
      outputs: {
        raw: { value: '${{ step.stdout }}', format: 'text' },
        info: { value: '${{ step.stdout }}', format: 'json' },
        listed: { value: 'files: ${{ step.stdout }}', format: 'yaml' },
        empty: { value: '', format: 'yaml' },
      },
    });
    expect(renderStepOutputs(spec, 0, data)).toEqual({
      raw: '{"name": "api", "tags": ["x", "y"]}\n',
      info: { name: 'api', tags: ['x', 'y'] },
      listed: { files: { name: 'api', tags: ['x', 'y'] } },
      empty: null,
    });
  });

  it('given an output that is not valid json, then it fails naming the output and the format', () => {
    const spec = step('true', { outputs: { info: { value: 'not json', format: 'json' } } });
    expect(failureOf(() => renderStepOutputs(spec, 4, data))).toMatchObject({
      reason: 'template',
      stepIndex: 4,
      message: expect.stringMatching(/^step 5 outputs\.info: the value is not valid json: /),
    });
  });
});
