import { writeFile } from 'node:fs/promises';
import { parseCampaignSpec } from '@campaigns/campaign-spec';
import { EXIT, UsageError, type Command } from '../command.js';
import { CliFailure } from './spec-service-client.js';

const DEFAULT_NAME = 'my-campaign';

/** A commented spec that `campaign validate` accepts: each part says what it is for. */
export function specSkeleton(name: string): string {
  return `# A campaign spec: where to change code, what to run, and how the pull requests look.
#   campaign validate -f FILE   checks it (no services needed)
#   campaign repos -f FILE      lists the repositories it matches, without applying
#   campaign preview -f FILE    shows what applying it would do to each repository
#   campaign apply -f FILE --wait
# Editor completion: \`campaign schema > campaign-spec.schema.json\`, then make the next line the first:
# yaml-language-server: $schema=./campaign-spec.schema.json

# Unique: applying a spec with the same name updates that campaign.
name: ${name}
description: What this campaign changes, and why

# Where: repositories matching a search query, or named one by one.
on:
  - repositoriesMatchingQuery: file:README.md
  # - repository: github.com/acme/api
  #   branch: main   # another branch than the default one

# What: each step runs in a container in a copy of the repository; what the steps change becomes
# the changeset. Steps run in order; a step that exits non-zero fails that repository only.
steps:
  - run: echo Hello >> README.md
    container: alpine:3

# How the changesets look. published: false keeps them unpublished (no pull requests yet),
# true opens pull requests, draft opens draft pull requests.
changesetTemplate:
  title: Say hello in the README
  body: Appends Hello to the README.
  branch: campaigns/${name}
  commit:
    message: Say hello in the README
  published: false
`;
}

export const newCommand: Command = {
  name: 'new',
  summary: 'Print a commented campaign spec to start from, or write it with -f FILE',
  usage: 'campaign new [NAME] [-f FILE]',
  configure(command) {
    command
      .argument('[NAME]', `the campaign's name (default ${DEFAULT_NAME})`)
      .option(
        '-f, --file <FILE>',
        'write the spec to FILE, which must not exist yet (- is stdout)',
      );
  },
  help: {
    env: [],
    examples: [
      ['campaign new hello > hello.campaign.yaml', 'a spec named hello, on stdout'],
      ['campaign new hello -f hello.campaign.yaml', 'the same, written to a new file'],
    ],
    exitCodes: [
      [0, 'printed or written'],
      [1, 'FILE exists already (it is left as it is) or cannot be written'],
      [2, 'the command line is wrong, e.g. a name with spaces'],
    ],
  },
  async run({ options, args }, io) {
    const name = args[0] ?? DEFAULT_NAME;
    const text = specSkeleton(name);
    // The name is the one part that comes from the user: any error in the skeleton is the name's.
    if (parseCampaignSpec(text, 'new').errors.length > 0)
      throw new UsageError(
        `"${name}" cannot be a campaign name: use letters, digits, ".", "_" and "-"`,
      );
    const file = options['file'] as string | undefined;
    if (file === undefined || file === '-') {
      io.stdout(text);
      return EXIT.ok;
    }
    if (file === '') throw new UsageError('-f needs a file name');
    try {
      await writeFile(file, text, { flag: 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'EEXIST'
          ? 'it exists already (left as it is; choose another name or remove it)'
          : code === 'ENOENT'
            ? 'its directory does not exist'
            : code === 'EACCES' || code === 'EPERM'
              ? 'permission denied'
              : (err as Error).message;
      throw new CliFailure(`new: cannot write ${file}: ${why}`, 1);
    }
    io.stderr(`Wrote ${file}: check it with campaign validate -f ${file}\n`);
    return EXIT.ok;
  },
};
