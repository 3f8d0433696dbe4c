import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';

/** The parts of Express's response the controller uses. */
export interface HttpResponse {
  status(code: number): HttpResponse;
  type(contentType: string): HttpResponse;
  setHeader(name: string, value: string): HttpResponse;
  json(body: unknown): void;
  send(body: Buffer): void;
}

/** Where `vite build` puts the app (src/ui/vite.config.ts), next to the compiled service. */
export const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The built React app: its hashed assets, and index.html for every page's address (the app
 * routes in the browser). Asset names are checked against one pattern: no path leaves UI_DIR.
 */
@Controller()
export class UiFilesController {
  @Get('assets/:file')
  async asset(@Param('file') file: string, @Res() res: HttpResponse): Promise<void> {
    const type = TYPES[extname(file)];
    if (!/^[\w.-]+$/.test(file) || type === undefined) throw new NotFoundException();
    const content = await readFile(join(UI_DIR, 'assets', file)).catch(() => null);
    if (content === null) throw new NotFoundException();
    // Hashed names: a new build has new names.
    res.type(type).setHeader('cache-control', 'public, max-age=31536000, immutable').send(content);
  }

  @Get(['', 'campaigns', 'campaigns/*path'])
  async page(@Res() res: HttpResponse): Promise<void> {
    const html = await readFile(join(UI_DIR, 'index.html')).catch(() => null);
    if (html === null)
      throw new NotFoundException('the dashboard app is not built (npm run build)');
    res.type('text/html; charset=utf-8').setHeader('cache-control', 'no-cache').send(html);
  }
}
