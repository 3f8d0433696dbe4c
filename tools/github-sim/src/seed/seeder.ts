// Seeding: synthetic repositories in bulk, and seed files describing orgs, users, tokens and repos.
import type { FileChanges } from '../git/repo-store.js';
import { syntheticRepoSpecs, writeSyntheticCommits } from '../git/synthetic-repos.js';
import type { TokenLimits, Visibility } from '../state/model.js';
import type { SimCore } from '../sim-core.js';

/** A seed file (`--seed FILE`, JSON). Everything is optional; accounts are created before repos. */
export interface SeedFile {
  users?: { login: string; name?: string; email?: string; siteAdmin?: boolean }[];
  orgs?: { login: string; members?: string[] }[];
  tokens?: { token: string; login: string; label?: string; limits?: Partial<TokenLimits> }[];
  repositories?: {
    owner: string;
    name: string;
    files?: FileChanges;
    visibility?: Visibility;
    defaultBranch?: string;
    topics?: string[];
    language?: string;
    description?: string;
    archived?: boolean;
    fork?: boolean;
    /** Extra branches: name → files committed on top of the default branch. */
    branches?: Record<string, FileChanges>;
  }[];
  /** Synthetic repositories in bulk. */
  synthetic?: { owner: string; count: number; prefix?: string; featureBranch?: string }[];
}

const SEEDER = { name: 'github-sim seeder', email: 'seeder@github-sim.invalid' };

/**
 * Creates `count` synthetic repositories owned by `owner` (created as an organization if
 * missing): one fast-import for all commits, then a few small files per repository.
 */
export async function seedSyntheticRepos(
  core: SimCore,
  input: { owner: string; count: number; prefix?: string; featureBranch?: string },
): Promise<{ count: number; ms: number }> {
  const started = performance.now();
  if (!core.state.getAccount(input.owner))
    core.state.createAccount({ login: input.owner, type: 'Organization' });
  const specs = syntheticRepoSpecs(input.owner, input.count, input.prefix);
  const commits = await writeSyntheticCommits(core.store, specs, SEEDER, input.featureBranch);
  const BATCH = 64;
  for (let i = 0; i < specs.length; i += BATCH) {
    await Promise.all(
      specs.slice(i, i + BATCH).map(async (spec, j) => {
        const { main: sha, feature } = commits[i + j]!;
        const branches: Record<string, string> = { main: sha };
        if (feature !== null) branches[input.featureBranch!] = feature;
        const repository = core.state.createRepository({
          owner: spec.owner,
          name: spec.name,
          description: spec.description,
          language: spec.language,
          topics: spec.topics,
          archived: spec.archived,
          fork: spec.fork,
          branches,
        });
        core.codeIndex.remember(sha, spec.files);
        const refs = Object.fromEntries(
          Object.entries(branches).map(([b, c]) => [`refs/heads/${b}`, c]),
        );
        await core.store.createBare(repository.owner, repository.name, 'main', refs, true);
      }),
    );
  }
  core.state.touch();
  return { count: specs.length, ms: performance.now() - started };
}

export async function applySeedFile(core: SimCore, seed: SeedFile): Promise<void> {
  const { state } = core;
  for (const user of seed.users ?? []) {
    if (!state.getAccount(user.login)) {
      state.createAccount({
        login: user.login,
        type: 'User',
        name: user.name,
        email: user.email,
        site_admin: user.siteAdmin,
      });
    }
  }
  for (const org of seed.orgs ?? []) {
    if (!state.getAccount(org.login))
      state.createAccount({ login: org.login, type: 'Organization' });
    for (const member of org.members ?? []) state.addMember(org.login, member);
  }
  for (const token of seed.tokens ?? []) {
    if (!state.getToken(token.token)) state.createToken(token);
  }
  for (const repo of seed.repositories ?? []) {
    if (state.getRepository(repo.owner, repo.name)) continue;
    const actor = adminLogin(core);
    const repository = await core.repositories.create({
      owner: repo.owner,
      name: repo.name,
      actor,
      files: repo.files ?? { 'README.md': `# ${repo.name}\n` },
      visibility: repo.visibility,
      defaultBranch: repo.defaultBranch,
      topics: repo.topics,
      language: repo.language,
      description: repo.description,
      fork: repo.fork,
    });
    for (const [branch, files] of Object.entries(repo.branches ?? {})) {
      await core.repositories.pushFiles(repository, {
        branch,
        files,
        message: `Add ${branch}`,
        actor,
      });
    }
    if (repo.archived) core.repositories.setArchived(repository, true, actor);
  }
  for (const synthetic of seed.synthetic ?? []) await seedSyntheticRepos(core, synthetic);
}

/** The built-in site administrator the simulator acts as when a command names no one. */
export const ADMIN_LOGIN = 'sim-admin';

export function adminLogin(core: SimCore): string {
  if (!core.state.getAccount(ADMIN_LOGIN)) {
    core.state.createAccount({
      login: ADMIN_LOGIN,
      type: 'User',
      name: 'Simulator Admin',
      site_admin: true,
    });
  }
  return ADMIN_LOGIN;
}
