import type { ChangesetStatus } from './api.js';

export function Problem({ message }: { message: string }) {
  return (
    <p className="problem" role="alert">
      {message}
    </p>
  );
}

export function Phase({ phase }: { phase: string }) {
  return <span className={`badge phase-${phase}`}>{phase}</span>;
}

export function State({ changeset }: { changeset: ChangesetStatus }) {
  return (
    <span className={`badge state-${changeset.state}`} data-testid="state">
      {changeset.state}
      {changeset.lastError !== null && (
        <span className="error-mark" title={changeset.lastError}>
          {changeset.errorTerminal ? ' ✖' : ' ⚠'}
        </span>
      )}
    </span>
  );
}

export function When({ at }: { at: string }) {
  const date = new Date(at);
  return <time dateTime={at}>{date.toLocaleString()}</time>;
}

/** The pull request, linked, or a dash before it is published. */
export function PullRequest({ changeset }: { changeset: ChangesetStatus }) {
  if (changeset.url === null) return <span className="muted">—</span>;
  return (
    <a href={changeset.url} target="_blank" rel="noreferrer" data-testid="pr-link">
      #{changeset.number}
    </a>
  );
}

/** A unified diff, its lines coloured by what they do. */
export function Diff({ text, testId }: { text: string; testId?: string }) {
  return (
    <pre className="diff" data-testid={testId}>
      {text.split('\n').map((line, i) => {
        const kind =
          line.startsWith('+++') || line.startsWith('---')
            ? 'file'
            : line.startsWith('@@')
              ? 'hunk'
              : line.startsWith('+')
                ? 'add'
                : line.startsWith('-')
                  ? 'del'
                  : line.startsWith('diff ')
                    ? 'file'
                    : 'ctx';
        return (
          <span key={i} className={`line ${kind}`}>
            {line}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}
