import {
  formatDiagnostic,
  parseCampaignSpec,
  type CampaignSpec,
  type CampaignSpecParseResult,
} from '@campaigns/campaign-spec';
import { ApiRequestError } from '@campaigns/service-kit';

/** The spec and its warnings (FILE:LINE:COL: message), or `invalid-spec` with every diagnostic. */
export function validSpec(
  fileName: string,
  specText: string,
): { spec: CampaignSpec; warnings: string[] } {
  const parsed: CampaignSpecParseResult = parseCampaignSpec(specText, fileName);
  const warnings = parsed.warnings.map((w) => formatDiagnostic(fileName, w));
  if (!parsed.spec || parsed.errors.length > 0) {
    const diagnostics = parsed.errors.map((d) => formatDiagnostic(fileName, d));
    throw new ApiRequestError({
      code: 'invalid-spec',
      message: `${fileName}: the spec has ${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}`,
      diagnostics: [...diagnostics, ...warnings],
    });
  }
  return { spec: parsed.spec, warnings };
}
