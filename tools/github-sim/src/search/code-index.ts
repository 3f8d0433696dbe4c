// The files of each repository's default branch for code search, cached by commit: seeded
// repositories are indexed from their seed specs without reading git; anything pushed later is
// read once from the bare repository (ls-tree + one cat-file --batch).
import { createHash } from 'node:crypto';
import type { RepoStore } from '../git/repo-store.js';

export interface IndexedFile {
  path: string;
  sha: string;
  size: number;
  /** Text content; null for binary or large files, which only match on path qualifiers. */
  content: string | null;
}

const MAX_INDEXED_BYTES = 384 * 1024;

export function blobSha(content: string | Buffer): string {
  const buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${buffer.length}\0`).update(buffer).digest('hex');
}

export class CodeIndex {
  private readonly byCommit = new Map<string, IndexedFile[]>();
  private readonly pending = new Map<string, Promise<IndexedFile[]>>();

  constructor(private readonly store: RepoStore) {}

  /** Records the files of a commit whose content is already known (seeding). */
  remember(commit: string, files: Record<string, string>): void {
    this.byCommit.set(
      commit,
      Object.entries(files).map(([path, content]) => ({
        path,
        sha: blobSha(content),
        size: Buffer.byteLength(content),
        content,
      })),
    );
  }

  async filesAt(gitDir: string, commit: string): Promise<IndexedFile[]> {
    const known = this.byCommit.get(commit);
    if (known) return known;
    let pending = this.pending.get(commit);
    if (!pending) {
      pending = this.read(gitDir, commit).finally(() => this.pending.delete(commit));
      this.pending.set(commit, pending);
    }
    return pending;
  }

  private async read(gitDir: string, commit: string): Promise<IndexedFile[]> {
    const entries = (await this.store.lsTree(gitDir, commit, true)).filter(
      (e) => e.type === 'blob',
    );
    const small = entries.filter((e) => (e.size ?? 0) <= MAX_INDEXED_BYTES).map((e) => e.sha);
    const blobs = await this.store.readBlobs(gitDir, [...new Set(small)]);
    const files = entries.map((e) => {
      const blob = blobs.get(e.sha);
      const text = blob && !blob.subarray(0, 8000).includes(0) ? blob.toString('utf8') : null;
      return { path: e.path, sha: e.sha, size: e.size ?? 0, content: text };
    });
    this.byCommit.set(commit, files);
    return files;
  }
}
