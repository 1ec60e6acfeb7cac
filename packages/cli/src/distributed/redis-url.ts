import type { Redis } from 'ioredis';
import { UsageError } from '../errors.js';

/** Connection options for ioredis / BullMQ, parsed from a `redis://` or `rediss://` URL. */
export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** TLS options (`rediss://`): server name checked against the certificate. */
  tls?: { servername: string };
  /** BullMQ needs blocking commands to wait through reconnects. */
  maxRetriesPerRequest: null;
}

/**
 * Parses `redis[s]://[user[:password]@]host[:port][/db]`. The password is passed through to Redis AUTH, never
 * printed (see `redactRedisUrl`); `rediss://` connects over TLS.
 */
export function parseRedisUrl(url: string, flag = '--queue'): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(flag, `"${redactRedisUrl(url)}" is not a URL`, 'use redis://host:port[/db] or rediss://user:password@host:port');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UsageError(flag, `the URL must start with redis:// or rediss://, got ${u.protocol}//`, 'e.g. redis://127.0.0.1:6379');
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new UsageError(flag, 'the URL names no host', 'e.g. redis://127.0.0.1:6379');
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) {
    // (an '@' there is most likely the rest of a password holding an unencoded '/': not echoed)
    if (path.includes('@')) throw new UsageError(flag, "the part after the host is not a database number and holds an '@'", "percent-encode '/' in the password as %2F (encodeURIComponent)");
    throw new UsageError(flag, `the database must be a number (/0, /1, …), got /${path}`);
  }
  const conn: RedisConnection = { host, port: u.port ? Number(u.port) : 6379, db: path === '' ? 0 : Number(path), maxRetriesPerRequest: null };
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new UsageError(flag, `the ${what} in the URL is not validly percent-encoded`, 'percent-encode special characters, e.g. % as %25 (encodeURIComponent)');
    }
  };
  if (u.username) conn.username = decode(u.username, 'user name');
  if (u.password) conn.password = decode(u.password, 'password');
  if (u.protocol === 'rediss:') conn.tls = { servername: host };
  return conn;
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactRedisUrl(url: string): string {
  // Up to the last '@': a password may itself hold '@', '/', '#' or '?' when it was not percent-encoded (such a
  // URL is refused, and its message must not print the password either).
  return url.replace(/^([\w+.-]+:\/\/[^:@/]*:).*@/s, '$1***@');
}

/** Redis refused the credentials (wrong password or user): retrying cannot help. */
export function isAuthError(error: Error): boolean {
  return /WRONGPASS|NOAUTH|invalid password|invalid username-password|NOPERM/i.test(error.message);
}

/**
 * Checks that the URL's database exists on the server: ioredis (and BullMQ) stay on database 0 when SELECT fails
 * (e.g. `/99999` above the server's `databases`), so jobs would silently go to another database. A usage error
 * naming `flag` then.
 */
export async function checkDatabase(redis: Redis, db: number, where: string, flag = '--queue'): Promise<void> {
  if (db === 0) return;
  try {
    await redis.select(db);
  } catch (error) {
    throw new UsageError(flag, `Redis at ${where} has no database ${db} (${(error as Error).message})`, "use a database number below the server's `databases` setting (16 by default), e.g. /0");
  }
}
