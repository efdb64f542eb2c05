/**
 * Who may talk to the dashboard. Bound to loopback it needs no token, but it still refuses requests whose Host is
 * not a loopback name (a web page on another site cannot reach it through DNS rebinding) and writes that do not
 * carry the dashboard's own header (a form on another site cannot send it: cross-site requests with custom headers
 * need a preflight this server never grants). Bound to any other address it requires a token, given once as
 * `?token=` (kept in an HttpOnly cookie) or as `Authorization: Bearer`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const WRITE_HEADER = 'x-successor-dashboard';
const COOKIE = 'successor_token';

export const isLoopbackHost = (host: string): boolean => host === '127.0.0.1' || host === 'localhost' || host === '::1';

/** The host name of a Host header, without its port (`[::1]:4173` -> `::1`). */
function hostName(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed) return bracketed[1];
  return header.replace(/:\d+$/, '');
}

const sameToken = (given: string | undefined, token: string): boolean =>
  given !== undefined && given.length === token.length && timingSafeEqual(Buffer.from(given), Buffer.from(token));

export function guard(options: { token: string | null }): MiddlewareHandler {
  const { token } = options;
  return async (context, next) => {
    if (token === null) {
      const host = context.req.header('host');
      if (host !== undefined && !isLoopbackHost(hostName(host))) return context.text('this dashboard answers on loopback names only', 403);
    } else {
      const query = context.req.query('token');
      const bearer = context.req.header('authorization')?.replace(/^Bearer\s+/i, '');
      const cookie = getCookie(context, COOKIE);
      if (!sameToken(query, token) && !sameToken(bearer, token) && !sameToken(cookie, token)) return context.text('a token is required (open the URL the server printed)', 401);
      if (sameToken(query, token)) setCookie(context, COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    }
    if (context.req.method !== 'GET' && context.req.method !== 'HEAD' && context.req.header(WRITE_HEADER) !== '1') {
      return context.json({ error: `writes need the ${WRITE_HEADER} header` }, 403);
    }
    await next();
  };
}
