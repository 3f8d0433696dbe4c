import { describe, expect, it } from '@jest/globals';
import { lineCounts } from './diffstat.js';

describe('lineCounts', () => {
  it('counts the lines of hunks, not the files’ headers, across files', () => {
    const diff = [
      'diff --git a/README.md b/README.md',
      'index 1111111..2222222 100644',
      '--- a/README.md',
      '+++ b/README.md',
      '@@ -1,2 +1,3 @@',
      ' # Title',
      '-old',
      '+new',
      '+++ an added line that looks like a header',
      'diff --git a/gone.txt b/gone.txt',
      'deleted file mode 100644',
      '--- a/gone.txt',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      '',
    ].join('\n');
    expect(lineCounts(diff)).toEqual({ added: 2, deleted: 2 });
  });

  it('counts nothing in a binary patch or an empty diff', () => {
    const binary = [
      'diff --git a/logo.png b/logo.png',
      'new file mode 100644',
      'GIT binary patch',
      'literal 3',
      '-Kc${NkVE_OC0RR91',
      '',
    ].join('\n');
    expect(lineCounts(binary)).toEqual({ added: 0, deleted: 0 });
    expect(lineCounts('')).toEqual({ added: 0, deleted: 0 });
  });
});
