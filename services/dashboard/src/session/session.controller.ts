import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { DashboardErrorFilter } from '../api/dashboard-error.filter.js';
import { SpecServiceApi } from '../api/spec-service-api.js';
import { Credential } from './credential.decorator.js';
import { sessionCookie, tokenShapeProblem } from './credential.js';

/** The parts of Express's request and response the controller uses. */
interface HttpRequest {
  secure: boolean;
  headers: Record<string, string | string[] | undefined>;
}
interface CookieResponse {
  setHeader(name: string, value: string): unknown;
}

/** HTTPS directly, or behind a proxy that says so: then the cookie is Secure. */
const overHttps = (request: HttpRequest) =>
  request.secure || request.headers['x-forwarded-proto'] === 'https';

/**
 * Sign-in: the user pastes an access token (`campaign admin tokens create USER`, or the one
 * `campaign login` uses); spec-service says whose it is, and the browser keeps it in an HttpOnly
 * cookie. Nothing about sessions is stored here: every later request is checked again by
 * spec-service, so revoking the token signs the browser out at its next request.
 */
@Controller('api/session')
@UseFilters(DashboardErrorFilter)
export class SessionController {
  constructor(@Inject(SpecServiceApi) private readonly spec: SpecServiceApi) {}

  /** Who is signed in (401 when nobody, or the token no longer works). */
  @Get()
  whoami(@Credential() token: string) {
    return this.spec.request('whoami', {}, token);
  }

  @Post()
  @HttpCode(200)
  async signIn(
    @Body() body: unknown,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: CookieResponse,
  ) {
    const token = (body as { token?: unknown } | null)?.token;
    const problem = tokenShapeProblem(token);
    if (problem !== null) throw new BadRequestException(problem);
    const trimmed = (token as string).trim();
    const me = await this.spec.request('whoami', {}, trimmed);
    response.setHeader('Set-Cookie', sessionCookie(trimmed, overHttps(request)));
    return me;
  }

  @Delete()
  @HttpCode(204)
  signOut(@Req() request: HttpRequest, @Res({ passthrough: true }) response: CookieResponse) {
    response.setHeader('Set-Cookie', sessionCookie(null, overHttps(request)));
  }
}
