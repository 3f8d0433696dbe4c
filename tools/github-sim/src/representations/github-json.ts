// GitHub's JSON shapes rendered from the simulator's records: the REST API answers with them and
// webhook payloads embed them (a webhook's `pull_request` is the REST pull request).
// Every shape here is validated against GitHub's OpenAPI description in the tests.
import type { CommitInfo } from '../git/repo-store.js';
import type {
  Account,
  CheckRun,
  CheckSuite,
  CommitStatus,
  CommitStatusState,
  Hook,
  IssueComment,
  Label,
  PullRequest,
  Repository,
  Review,
} from '../state/model.js';
import type { SimState } from '../state/sim-state.js';

/** Where the simulator is reachable; every URL in a payload is built from these. */
export interface SimUrls {
  /** e.g. http://127.0.0.1:3001 */
  web: string;
  /** e.g. http://127.0.0.1:3001/api/v3 */
  api: string;
}

type Json = Record<string, unknown>;

export class GithubJson {
  constructor(
    private readonly state: SimState,
    readonly urls: SimUrls,
  ) {}

  // ---- accounts ------------------------------------------------------------------------------

  user(accountOrLogin: Account | string): Json {
    const a =
      typeof accountOrLogin === 'string'
        ? this.state.accountOrGhost(accountOrLogin)
        : accountOrLogin;
    const url = `${this.urls.api}/users/${a.login}`;
    return {
      login: a.login,
      id: a.id,
      node_id: a.node_id,
      avatar_url: `${this.urls.web}/avatars/u/${a.id}?`,
      gravatar_id: '',
      url,
      html_url: `${this.urls.web}/${a.login}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: a.type,
      user_view_type: 'public',
      site_admin: a.site_admin,
    };
  }

  /** GET /users/{username} for a user (public-user) or GET /orgs/{org} (organization-full). */
  account(a: Account): Json {
    const base = this.user(a);
    const common = {
      name: a.name,
      company: null,
      blog: '',
      location: null,
      email: a.email,
      public_repos: this.state
        .listRepositories()
        .filter((r) => r.owner === a.login && r.visibility === 'public').length,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: a.created_at,
      updated_at: a.updated_at,
    };
    if (a.type === 'User') {
      return { ...base, ...common, hireable: null, bio: null, twitter_username: null };
    }
    const url = `${this.urls.api}/orgs/${a.login}`;
    return {
      login: a.login,
      id: a.id,
      node_id: a.node_id,
      url,
      repos_url: `${url}/repos`,
      events_url: `${url}/events`,
      hooks_url: `${url}/hooks`,
      issues_url: `${url}/issues`,
      members_url: `${url}/members{/member}`,
      public_members_url: `${url}/public_members{/member}`,
      avatar_url: base.avatar_url,
      description: null,
      html_url: `${this.urls.web}/${a.login}`,
      has_organization_projects: true,
      has_repository_projects: true,
      type: 'Organization',
      archived_at: null,
      ...common,
    };
  }

  // ---- repositories --------------------------------------------------------------------------

  /** `full-repository` (GET /repos/{owner}/{repo}); `minimal` for lists; `search` adds a score. */
  repository(
    r: Repository,
    kind: 'full' | 'minimal' | 'search' | 'nested' = 'full',
    viewer?: string,
  ): Json {
    const fullName = `${r.owner}/${r.name}`;
    const url = `${this.urls.api}/repos/${fullName}`;
    const html = `${this.urls.web}/${fullName}`;
    const openIssues = this.state.listPullRequests(r).filter((p) => p.state === 'open').length;
    const forks = this.state.forkCountOf(r);
    const json: Json = {
      id: r.id,
      node_id: r.node_id,
      name: r.name,
      full_name: fullName,
      private: r.visibility !== 'public',
      owner: this.user(r.owner),
      html_url: html,
      description: r.description,
      fork: r.fork,
      url,
      archive_url: `${url}/{archive_format}{/ref}`,
      assignees_url: `${url}/assignees{/user}`,
      blobs_url: `${url}/git/blobs{/sha}`,
      branches_url: `${url}/branches{/branch}`,
      collaborators_url: `${url}/collaborators{/collaborator}`,
      comments_url: `${url}/comments{/number}`,
      commits_url: `${url}/commits{/sha}`,
      compare_url: `${url}/compare/{base}...{head}`,
      contents_url: `${url}/contents/{+path}`,
      contributors_url: `${url}/contributors`,
      deployments_url: `${url}/deployments`,
      downloads_url: `${url}/downloads`,
      events_url: `${url}/events`,
      forks_url: `${url}/forks`,
      git_commits_url: `${url}/git/commits{/sha}`,
      git_refs_url: `${url}/git/refs{/sha}`,
      git_tags_url: `${url}/git/tags{/sha}`,
      git_url: `git://${new URL(this.urls.web).host}/${fullName}.git`,
      issue_comment_url: `${url}/issues/comments{/number}`,
      issue_events_url: `${url}/issues/events{/number}`,
      issues_url: `${url}/issues{/number}`,
      keys_url: `${url}/keys{/key_id}`,
      labels_url: `${url}/labels{/name}`,
      languages_url: `${url}/languages`,
      merges_url: `${url}/merges`,
      milestones_url: `${url}/milestones{/number}`,
      notifications_url: `${url}/notifications{?since,all,participating}`,
      pulls_url: `${url}/pulls{/number}`,
      releases_url: `${url}/releases{/id}`,
      ssh_url: `git@${new URL(this.urls.web).hostname}:${fullName}.git`,
      stargazers_url: `${url}/stargazers`,
      statuses_url: `${url}/statuses/{sha}`,
      subscribers_url: `${url}/subscribers`,
      subscription_url: `${url}/subscription`,
      tags_url: `${url}/tags`,
      teams_url: `${url}/teams`,
      trees_url: `${url}/git/trees{/sha}`,
      clone_url: `${html}.git`,
      mirror_url: null,
      hooks_url: `${url}/hooks`,
      svn_url: html,
      homepage: null,
      language: r.language,
      forks_count: forks,
      stargazers_count: 0,
      watchers_count: 0,
      size: 0,
      default_branch: r.default_branch,
      open_issues_count: openIssues,
      is_template: false,
      topics: r.topics,
      has_issues: true,
      has_projects: true,
      has_wiki: true,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: r.archived,
      disabled: false,
      visibility: r.visibility,
      pushed_at: r.pushed_at,
      created_at: r.created_at,
      updated_at: r.updated_at,
      allow_forking: true,
      web_commit_signoff_required: false,
      license: null,
      forks,
      open_issues: openIssues,
      watchers: 0,
    };
    if (viewer !== undefined) json.permissions = this.permissions(r, viewer);
    if (kind === 'full') {
      Object.assign(json, {
        allow_squash_merge: true,
        allow_merge_commit: true,
        allow_rebase_merge: true,
        allow_auto_merge: true,
        delete_branch_on_merge: false,
        allow_update_branch: false,
        use_squash_pr_title_as_default: false,
        squash_merge_commit_title: 'COMMIT_OR_PR_TITLE',
        squash_merge_commit_message: 'COMMIT_MESSAGES',
        merge_commit_title: 'MERGE_MESSAGE',
        merge_commit_message: 'PR_TITLE',
        network_count: 0,
        subscribers_count: 0,
      });
      const owner = this.state.getAccount(r.owner);
      if (owner?.type === 'Organization') json.organization = this.user(owner);
      // A fork's full representation names the repository it was forked from and its network's root.
      const parent =
        r.parent_id === undefined ? undefined : this.state.getRepositoryById(r.parent_id);
      const source =
        r.source_id === undefined ? undefined : this.state.getRepositoryById(r.source_id);
      if (parent !== undefined) json.parent = this.repository(parent, 'nested');
      if (source !== undefined) json.source = this.repository(source, 'nested');
    }
    if (kind === 'search') json.score = 1;
    return json;
  }

  permissions(r: Repository, viewer: string): Json {
    const account = this.state.getAccount(viewer);
    const owner = this.state.getAccount(r.owner);
    const admin =
      account?.site_admin === true ||
      r.owner.toLowerCase() === viewer.toLowerCase() ||
      (owner?.type === 'Organization' && this.state.isMember(owner, viewer));
    return { admin, maintain: admin, push: admin, triage: admin, pull: true };
  }

  // ---- pull requests -------------------------------------------------------------------------

  /** `pull-request` (full: GET/POST/PATCH one) or `pull-request-simple` (lists). */
  pullRequest(p: PullRequest, full = true): Json {
    const repository = this.state.getRepositoryById(p.repository_id)!;
    const repoUrl = `${this.urls.api}/repos/${repository.owner}/${repository.name}`;
    const html = `${this.urls.web}/${repository.owner}/${repository.name}/pull/${p.number}`;
    const url = `${repoUrl}/pulls/${p.number}`;
    const issueUrl = `${repoUrl}/issues/${p.number}`;
    const side = (s: PullRequest['head']) => {
      const repo = this.state.getRepositoryById(s.repository_id) ?? repository;
      return {
        label: `${repo.owner}:${s.ref}`,
        ref: s.ref,
        sha: s.sha,
        user: this.user(repo.owner),
        repo: this.repository(repo, 'nested'),
      };
    };
    const json: Json = {
      url,
      id: p.id,
      node_id: p.node_id,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: issueUrl,
      number: p.number,
      state: p.state,
      locked: p.locked,
      title: p.title,
      user: this.user(p.user),
      body: p.body,
      labels: p.labels.map((name) => this.label(this.state.ensureLabel(repository, name))),
      milestone: null,
      active_lock_reason: null,
      created_at: p.created_at,
      updated_at: p.updated_at,
      closed_at: p.closed_at,
      merged_at: p.merged_at,
      merge_commit_sha: p.merge_commit_sha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      review_comment_url: `${repoUrl}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: `${repoUrl}/statuses/${p.head.sha}`,
      head: side(p.head),
      base: side(p.base),
      _links: {
        self: { href: url },
        html: { href: html },
        issue: { href: issueUrl },
        comments: { href: `${issueUrl}/comments` },
        review_comments: { href: `${url}/comments` },
        review_comment: { href: `${repoUrl}/pulls/comments{/number}` },
        commits: { href: `${url}/commits` },
        statuses: { href: `${repoUrl}/statuses/${p.head.sha}` },
      },
      author_association: this.authorAssociation(repository, p.user),
      auto_merge: p.auto_merge
        ? {
            enabled_by: this.user(p.auto_merge.enabled_by),
            merge_method: p.auto_merge.merge_method,
            commit_title: p.auto_merge.commit_title ?? '',
            commit_message: p.auto_merge.commit_message ?? '',
          }
        : null,
      draft: p.draft,
    };
    if (full) {
      Object.assign(json, {
        merged: p.merged,
        mergeable: p.state === 'open' ? p.mergeable : null,
        rebaseable: p.state === 'open' ? p.mergeable : null,
        mergeable_state: this.mergeableState(p),
        merged_by: p.merged_by ? this.user(p.merged_by) : null,
        comments: p.comments,
        review_comments: p.review_comments,
        maintainer_can_modify: p.maintainer_can_modify,
        commits: p.commits,
        additions: p.additions,
        deletions: p.deletions,
        changed_files: p.changed_files,
      });
    }
    return json;
  }

  mergeableState(p: PullRequest): string {
    if (p.state === 'closed') return 'unknown';
    if (p.mergeable === null) return 'unknown';
    if (!p.mergeable) return 'dirty';
    if (p.draft) return 'draft';
    const repository = this.state.getRepositoryById(p.repository_id)!;
    const combined = this.combinedState(this.state.listStatuses(repository, p.head.sha));
    const checks = this.state.listCheckRuns(repository, p.head.sha);
    const failing =
      combined === 'failure' ||
      checks.some((c) => c.conclusion === 'failure' || c.conclusion === 'timed_out');
    if (failing) return 'unstable';
    if (p.base.sha !== repository.branches[p.base.ref]) return 'behind';
    return 'clean';
  }

  authorAssociation(r: Repository, login: string): string {
    if (r.owner.toLowerCase() === login.toLowerCase()) return 'OWNER';
    const owner = this.state.getAccount(r.owner);
    if (owner?.type === 'Organization' && this.state.isMember(owner, login)) return 'MEMBER';
    return 'CONTRIBUTOR';
  }

  label(l: Label): Json {
    const repository = this.state.getRepositoryById(l.repository_id)!;
    return {
      id: l.id,
      node_id: l.node_id,
      url: `${this.urls.api}/repos/${repository.owner}/${repository.name}/labels/${encodeURIComponent(l.name)}`,
      name: l.name,
      description: l.description,
      color: l.color,
      default: l.default,
    };
  }

  issueComment(c: IssueComment): Json {
    const repository = this.state.getRepositoryById(c.repository_id)!;
    const repoUrl = `${this.urls.api}/repos/${repository.owner}/${repository.name}`;
    return {
      id: c.id,
      node_id: c.node_id,
      url: `${repoUrl}/issues/comments/${c.id}`,
      html_url: `${this.urls.web}/${repository.owner}/${repository.name}/pull/${c.issue_number}#issuecomment-${c.id}`,
      body: c.body,
      user: this.user(c.user),
      created_at: c.created_at,
      updated_at: c.updated_at,
      issue_url: `${repoUrl}/issues/${c.issue_number}`,
      author_association: this.authorAssociation(repository, c.user),
      performed_via_github_app: null,
    };
  }

  review(r: Review): Json {
    const repository = this.state.getRepositoryById(r.repository_id)!;
    const pullUrl = `${this.urls.api}/repos/${repository.owner}/${repository.name}/pulls/${r.pull_number}`;
    const html = `${this.urls.web}/${repository.owner}/${repository.name}/pull/${r.pull_number}#pullrequestreview-${r.id}`;
    return {
      id: r.id,
      node_id: r.node_id,
      user: this.user(r.user),
      body: r.body,
      state: r.state,
      html_url: html,
      pull_request_url: pullUrl,
      author_association: this.authorAssociation(repository, r.user),
      _links: { html: { href: html }, pull_request: { href: pullUrl } },
      submitted_at: r.submitted_at ?? undefined,
      commit_id: r.commit_id,
    };
  }

  // ---- statuses and checks -------------------------------------------------------------------

  status(s: CommitStatus): Json {
    const repository = this.state.getRepositoryById(s.repository_id)!;
    return {
      url: `${this.urls.api}/repos/${repository.owner}/${repository.name}/statuses/${s.sha}`,
      avatar_url: `${this.urls.web}/avatars/u/${this.state.accountOrGhost(s.creator).id}?`,
      id: s.id,
      node_id: s.node_id,
      state: s.state,
      description: s.description,
      target_url: s.target_url,
      context: s.context,
      created_at: s.created_at,
      updated_at: s.updated_at,
      creator: this.user(s.creator),
    };
  }

  /** The latest status per context, newest first (GitHub keeps one per context in the combined view). */
  latestStatuses(statuses: CommitStatus[]): CommitStatus[] {
    const seen = new Set<string>();
    return statuses.filter((s) => (seen.has(s.context) ? false : (seen.add(s.context), true)));
  }

  /** GitHub's combined state: failure if any failed or errored, pending if any pending or none, else success. */
  combinedState(statuses: CommitStatus[]): CommitStatusState {
    const latest = this.latestStatuses(statuses);
    if (latest.some((s) => s.state === 'failure' || s.state === 'error')) return 'failure';
    if (latest.length === 0 || latest.some((s) => s.state === 'pending')) return 'pending';
    return 'success';
  }

  combinedStatus(r: Repository, sha: string, statuses: CommitStatus[]): Json {
    const latest = this.latestStatuses(statuses);
    const repoUrl = `${this.urls.api}/repos/${r.owner}/${r.name}`;
    return {
      state: this.combinedState(statuses),
      statuses: latest.map((s) => {
        const { creator: _creator, ...simple } = this.status(s);
        return simple;
      }),
      sha,
      total_count: latest.length,
      repository: this.repository(r, 'nested'),
      commit_url: `${repoUrl}/commits/${sha}`,
      url: `${repoUrl}/commits/${sha}/status`,
    };
  }

  app(slug: string): Json {
    const owner = this.state.accountOrGhost(slug);
    return {
      id: owner.id,
      slug,
      node_id: owner.node_id,
      client_id: `Iv1.${owner.id.toString(16).padStart(16, '0')}`,
      owner: this.user(owner),
      name: slug,
      description: null,
      external_url: `${this.urls.web}/apps/${slug}`,
      html_url: `${this.urls.web}/apps/${slug}`,
      created_at: owner.created_at,
      updated_at: owner.updated_at,
      permissions: { checks: 'write', statuses: 'write', metadata: 'read' },
      events: ['check_run', 'check_suite'],
    };
  }

  private pullsForSha(r: Repository, sha: string): Json[] {
    return this.state
      .listPullRequests(r)
      .filter((p) => p.head.sha === sha && p.state === 'open')
      .map((p) => {
        const url = `${this.urls.api}/repos/${r.owner}/${r.name}/pulls/${p.number}`;
        const sideOf = (s: PullRequest['head']) => ({
          ref: s.ref,
          sha: s.sha,
          repo: { id: r.id, url: `${this.urls.api}/repos/${r.owner}/${r.name}`, name: r.name },
        });
        return { id: p.id, number: p.number, url, head: sideOf(p.head), base: sideOf(p.base) };
      });
  }

  checkRun(c: CheckRun): Json {
    const repository = this.state.getRepositoryById(c.repository_id)!;
    const suite = this.state.getCheckSuite(c.check_suite_id)!;
    const url = `${this.urls.api}/repos/${repository.owner}/${repository.name}/check-runs/${c.id}`;
    return {
      id: c.id,
      node_id: c.node_id,
      head_sha: c.head_sha,
      external_id: c.external_id,
      url,
      html_url: `${this.urls.web}/${repository.owner}/${repository.name}/runs/${c.id}`,
      details_url: c.details_url,
      status: c.status,
      conclusion: c.conclusion,
      started_at: c.started_at,
      completed_at: c.completed_at,
      output: { ...c.output, annotations_count: 0, annotations_url: `${url}/annotations` },
      name: c.name,
      check_suite: { id: suite.id },
      app: this.app(suite.app),
      pull_requests: this.pullsForSha(repository, c.head_sha),
    };
  }

  checkSuite(s: CheckSuite, commit?: CommitInfo): Json {
    const repository = this.state.getRepositoryById(s.repository_id)!;
    const url = `${this.urls.api}/repos/${repository.owner}/${repository.name}/check-suites/${s.id}`;
    return {
      id: s.id,
      node_id: s.node_id,
      head_branch: s.head_branch,
      head_sha: s.head_sha,
      status: s.status,
      conclusion: s.conclusion,
      url,
      before: null,
      after: s.head_sha,
      pull_requests: this.pullsForSha(repository, s.head_sha),
      app: this.app(s.app),
      repository: this.repository(repository, 'minimal'),
      created_at: s.created_at,
      updated_at: s.updated_at,
      head_commit: commit
        ? {
            id: commit.sha,
            tree_id: commit.tree,
            message: commit.message,
            timestamp: commit.committer.date,
            author: { name: commit.author.name, email: commit.author.email },
            committer: { name: commit.committer.name, email: commit.committer.email },
          }
        : {
            id: s.head_sha,
            tree_id: s.head_sha,
            message: '',
            timestamp: s.created_at,
            author: null,
            committer: null,
          },
      latest_check_runs_count: this.state.listCheckRunsOfSuite(s.id).length,
      check_runs_url: `${url}/check-runs`,
      rerequestable: true,
      runs_rerequestable: true,
    };
  }

  // ---- git -----------------------------------------------------------------------------------

  gitRef(r: Repository, ref: string, sha: string): Json {
    const url = `${this.urls.api}/repos/${r.owner}/${r.name}/git/${ref}`;
    return {
      ref,
      node_id: Buffer.from(`04:Ref${r.id}:${ref}`).toString('base64'),
      url: url.replace('/git/refs/', '/git/refs/'),
      object: {
        type: 'commit',
        sha,
        url: `${this.urls.api}/repos/${r.owner}/${r.name}/git/commits/${sha}`,
      },
    };
  }

  branch(r: Repository, name: string, commit: CommitInfo | null, sha: string): Json {
    const repoUrl = `${this.urls.api}/repos/${r.owner}/${r.name}`;
    return {
      name,
      commit: commit ? this.commit(r, commit) : { sha, url: `${repoUrl}/commits/${sha}` },
      _links: {
        self: `${repoUrl}/branches/${name}`,
        html: `${this.urls.web}/${r.owner}/${r.name}/tree/${name}`,
      },
      protected: false,
      protection: {
        enabled: false,
        required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] },
      },
      protection_url: `${repoUrl}/branches/${name}/protection`,
    };
  }

  shortBranch(r: Repository, name: string, sha: string): Json {
    return {
      name,
      commit: { sha, url: `${this.urls.api}/repos/${r.owner}/${r.name}/commits/${sha}` },
      protected: false,
    };
  }

  gitCommit(r: Repository, c: CommitInfo): Json {
    const repoUrl = `${this.urls.api}/repos/${r.owner}/${r.name}`;
    return {
      sha: c.sha,
      node_id: Buffer.from(`06:Commit${r.id}:${c.sha}`).toString('base64'),
      url: `${repoUrl}/git/commits/${c.sha}`,
      html_url: `${this.urls.web}/${r.owner}/${r.name}/commit/${c.sha}`,
      author: { ...c.author },
      committer: { ...c.committer },
      tree: { sha: c.tree, url: `${repoUrl}/git/trees/${c.tree}` },
      message: c.message,
      parents: c.parents.map((p) => ({
        sha: p,
        url: `${repoUrl}/git/commits/${p}`,
        html_url: `${this.urls.web}/${r.owner}/${r.name}/commit/${p}`,
      })),
      verification: {
        verified: false,
        reason: 'unsigned',
        signature: null,
        payload: null,
        verified_at: null,
      },
    };
  }

  /** The REST `commit` (GET /repos/.../commits/{ref}, pull request commits). */
  commit(r: Repository, c: CommitInfo): Json {
    const repoUrl = `${this.urls.api}/repos/${r.owner}/${r.name}`;
    const { sha, node_id, url, html_url, parents, ...gitCommit } = this.gitCommit(r, c);
    const accountByEmail = (email: string) =>
      this.state
        .listAccounts()
        .find((a) => a.email !== null && a.email.toLowerCase() === email.toLowerCase());
    const authorAccount = accountByEmail(c.author.email);
    const committerAccount = accountByEmail(c.committer.email);
    return {
      url: `${repoUrl}/commits/${c.sha}`,
      sha,
      node_id,
      html_url,
      comments_url: `${repoUrl}/commits/${c.sha}/comments`,
      commit: {
        url,
        author: gitCommit.author,
        committer: gitCommit.committer,
        message: gitCommit.message,
        tree: gitCommit.tree,
        comment_count: 0,
        verification: gitCommit.verification,
      },
      author: authorAccount ? this.user(authorAccount) : null,
      committer: committerAccount ? this.user(committerAccount) : null,
      parents,
    };
  }

  hook(h: Hook): Json {
    let base: string;
    if (h.scope === 'repository') {
      const r = this.state.getRepositoryById(h.owner_id)!;
      base = `${this.urls.api}/repos/${r.owner}/${r.name}/hooks/${h.id}`;
    } else {
      const org = this.state.getAccountById(h.owner_id)!;
      base = `${this.urls.api}/orgs/${org.login}/hooks/${h.id}`;
    }
    return {
      type: h.scope === 'repository' ? 'Repository' : 'Organization',
      id: h.id,
      name: 'web',
      active: h.active,
      events: h.events,
      config: {
        content_type: h.content_type,
        insecure_ssl: h.insecure_ssl,
        url: h.url,
        ...(h.secret ? { secret: '********' } : {}),
      },
      updated_at: h.updated_at,
      created_at: h.created_at,
      url: base,
      test_url: `${base}/test`,
      ping_url: `${base}/pings`,
      deliveries_url: `${base}/deliveries`,
      last_response: { code: null, status: 'unused', message: null },
    };
  }
}
