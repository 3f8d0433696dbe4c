// GitHub's error answers: `{ message, documentation_url, status }`, plus `errors` for 422s.

export interface ValidationErrorItem {
  resource: string;
  field?: string;
  code: 'missing' | 'missing_field' | 'invalid' | 'already_exists' | 'unprocessable' | 'custom';
  message?: string;
}

const DOCS = 'https://docs.github.com/rest';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentationUrl: string = DOCS,
    readonly errors?: (ValidationErrorItem | string)[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): Record<string, unknown> {
    return {
      message: this.message,
      ...(this.errors ? { errors: this.errors } : {}),
      documentation_url: this.documentationUrl,
      status: String(this.status),
    };
  }
}

export const notFound = (documentationUrl = DOCS) =>
  new HttpError(404, 'Not Found', documentationUrl);

export const validationFailed = (
  errors: (ValidationErrorItem | string)[],
  documentationUrl = DOCS,
  message = 'Validation Failed',
) => new HttpError(422, message, documentationUrl, errors);
