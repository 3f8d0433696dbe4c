import { ApiRequestError } from '@campaigns/service-kit';

/** The API's answer for a campaign name it does not know (never applied, or deleted). */
export const notFound = (campaign: string) =>
  new ApiRequestError({ code: 'not-found', message: `no campaign named "${campaign}"` });
