// A git commit object written byte for byte as `git commit -F -` writes it (no user config, no
// signing), so a commit built here has the sha git would give it.
import { createHash } from 'node:crypto';

/** The fields of a commit whose author is also its committer, at one date. */
export interface CommitFields {
  /** The root tree's object id. */
  tree: string;
  /** The parent commit's object id. */
  parent: string;
  author: { name: string; email: string };
  /** Author and committer date; written in whole seconds, UTC. */
  date: Date;
  /** The message as given; cleaned up as `git commit` does by default (see `cleanCommitMessage`). */
  message: string;
}

/** A loose git object: its id and its content without the `<type> <size>\0` header. */
export interface GitObject {
  sha: string;
  content: Buffer;
}

const OBJECT_ID = /^[0-9a-f]{40}$/;

/**
 * The commit `git commit` would write for these fields, or null when git would change the
 * identity or refuse the message (then only git itself can say what the commit is).
 */
export function commitObject(fields: CommitFields): GitObject | null {
  if (!OBJECT_ID.test(fields.tree) || !OBJECT_ID.test(fields.parent)) {
    throw new RangeError('a commit needs full object ids for its tree and parent');
  }
  const { name, email } = fields.author;
  if (!gitKeepsIdentity(name) || !gitKeepsIdentity(email)) return null;
  const message = cleanCommitMessage(Buffer.from(fields.message, 'utf8'));
  if (message === null) return null;
  const ident = `${name} <${email}> ${Math.floor(fields.date.getTime() / 1000)} +0000`;
  const content = Buffer.concat([
    Buffer.from(
      `tree ${fields.tree}\nparent ${fields.parent}\nauthor ${ident}\ncommitter ${ident}\n\n`,
      'utf8',
    ),
    message,
  ]);
  return { sha: gitObjectId('commit', content), content };
}

/** The object id git gives `content` as an object of `type`. */
export function gitObjectId(type: 'commit' | 'tree' | 'blob' | 'tag', content: Buffer): string {
  return createHash('sha1')
    .update(`${type} ${content.length}\0`, 'latin1')
    .update(content)
    .digest('hex');
}

/**
 * Git's default cleanup of a message given with `-F` ("whitespace", `strbuf_stripspace`):
 * trailing whitespace removed from every line, runs of empty lines collapsed to one, leading and
 * trailing empty lines dropped, every line ended by "\n". Null when git would refuse to commit:
 * nothing left, or a NUL byte.
 */
export function cleanCommitMessage(message: Buffer): Buffer | null {
  if (message.includes(0)) return null;
  const lines: Buffer[] = [];
  let pendingEmpty = false;
  for (let start = 0; start < message.length;) {
    const newline = message.indexOf(0x0a, start);
    const end = newline < 0 ? message.length : newline;
    let last = end;
    while (last > start && isGitSpace(message[last - 1]!)) last--;
    if (last === start) {
      pendingEmpty = true;
    } else {
      if (pendingEmpty && lines.length > 0) lines.push(Buffer.from('\n'));
      pendingEmpty = false;
      lines.push(message.subarray(start, last), Buffer.from('\n'));
    }
    start = end + 1;
  }
  return lines.length === 0 ? null : Buffer.concat(lines);
}

/** Git's `isspace` (sane_ctype): tab, newline, carriage return and space only. */
function isGitSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Whether git writes a name or email unchanged: git drops "crud" (control characters, space and
 * `,:;<>"\'.`) from both ends and `<`, `>`, newlines inside, and refuses an empty one.
 */
export function gitKeepsIdentity(value: string): boolean {
  if (value.length === 0 || /[<>\n]/.test(value)) return false;
  return !isCrud(value.charCodeAt(0)) && !isCrud(value.charCodeAt(value.length - 1));
}

function isCrud(code: number): boolean {
  return code <= 32 || ',:;<>"\\\'.'.includes(String.fromCharCode(code));
}
