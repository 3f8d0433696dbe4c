import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { programTree } from '../cli.js';
import { runCaptured as run } from '../test-support/run-captured.js';
import { commandTree } from './completion.js';

const dir = mkdtempSync(join(tmpdir(), 'campaign-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Sources the bash script and asks its function for the words after `line`; returns COMPREPLY. */
async function bashComplete(...words: string[]): Promise<string[]> {
  const script = join(dir, 'campaign.bash');
  writeFileSync(script, (await run('completion', 'bash')).stdout);
  const r = spawnSync(
    'bash',
    [
      '-c',
      'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _campaign; printf "%s\\n" "${COMPREPLY[@]}"',
      script,
      'campaign',
      ...words,
    ],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((w) => w !== '');
}

describe('campaign completion', () => {
  const tree = commandTree(programTree());

  it('reads every registered command and its flags from the program', () => {
    expect(tree.map((c) => c.name)).toContain('apply');
    expect(tree.map((c) => c.name)).toContain('completion');
    expect(tree.find((c) => c.name === 'changesets')?.flags).toContainEqual(
      expect.objectContaining({ names: ['--state'], takesValue: true }),
    );
  });

  it('bash: names every command, every flag and every fixed value', async () => {
    const { code, stdout, stderr } = await run('completion', 'bash');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('complete -o default -F _campaign campaign');
    for (const c of tree) {
      const words = new RegExp(`^ {4}${c.name}\\) words="(.*)" ;;$`, 'm').exec(stdout)?.[1];
      expect(words?.split(' ')).toEqual(expect.arrayContaining(c.flags.flatMap((f) => f.names)));
      for (const f of c.flags.filter((f) => f.values.length > 0))
        expect(stdout).toContain(
          `"${c.name} ${f.names.at(-1)}") COMPREPLY=($(compgen -W "${f.values.join(' ')}"`,
        );
    }
  });

  it("bash's complete machinery offers commands, flags and the values of -o, --state and --do", async () => {
    expect(await bashComplete('ap')).toEqual(['apply']);
    expect(await bashComplete('apply', '--w')).toEqual(['--wait']);
    expect(await bashComplete('completion', 'z')).toEqual(['zsh']);
    expect(await bashComplete('apply', '-o', '')).toEqual(['json', 'yaml', 'wide']);
    expect(await bashComplete('changesets', 'x', '--state', 'op')).toEqual(['open']);
    expect(await bashComplete('changesets', 'x', '--do', 'me')).toEqual(['merge']);
    expect(await bashComplete('help', 'sta')).toEqual(['status']);
  });

  it('zsh and fish: a script naming every command; fish gives the fixed values', async () => {
    const zsh = await run('completion', 'zsh');
    expect(zsh.stdout).toMatch(/^autoload -U \+X bashcompinit && bashcompinit\n/);
    const fish = await run('completion', 'fish');
    expect(fish.code).toBe(0);
    for (const c of tree)
      expect(fish.stdout).toContain(`-n __fish_use_subcommand -a ${c.name} -d `);
    expect(fish.stdout).toContain(
      "-n '__fish_seen_subcommand_from apply' -s o -l output -x -a 'json yaml wide'",
    );
  });

  it('another shell is a usage error naming the shells', async () => {
    const r = await run('completion', 'tcsh');
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'campaign: SHELL tcsh: it is one of bash, zsh, fish\nUsage: campaign completion bash|zsh|fish\n',
    });
  });
});
