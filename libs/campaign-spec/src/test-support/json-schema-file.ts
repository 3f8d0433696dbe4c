import prettier from 'prettier';
import { campaignSpecJsonSchema } from '../spec/json-schema.js';

/**
 * The schema file's exact text: the generated schema formatted with the repository's Prettier
 * configuration (resolved for `filePath`). Used by the generator script and by the test that
 * keeps the committed file equal to the definition; not part of the package's runtime.
 */
export async function formattedCampaignSpecJsonSchema(filePath: string): Promise<string> {
  const options = (await prettier.resolveConfig(filePath)) ?? {};
  return prettier.format(JSON.stringify(campaignSpecJsonSchema()), {
    ...options,
    filepath: filePath,
  });
}
