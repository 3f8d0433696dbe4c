/**
 * Paces writes that create content on a code host (comments, merges, closes of a bulk
 * operation) within the host's budget (GitHub: 80 a minute, 500 an hour) and the campaign's
 * rollout windows. A job not admitted waits until `at` and asks again.
 */
export interface ContentPacer {
  admit(input: {
    hostId: string;
    campaign: string;
    changesetId: string;
  }): Promise<{ admitted: true; done?: () => Promise<void> } | { admitted: false; at: Date }>;
}

/** Admits every write at once (tests that are not about pacing). */
export const admitEverything: ContentPacer = {
  admit: () => Promise.resolve({ admitted: true }),
};
