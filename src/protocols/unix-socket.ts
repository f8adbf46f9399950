/**
 * A Unix socket file's life: its name checked before any socket opens, a stale
 * file from a dead server cleared, and at close only the file this server made
 * removed (asyncio 3.13's `cleanup_socket`: the device and inode are recorded
 * after listening and compared before unlinking).
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { linkSync, lstatSync, statSync, unlinkSync } from "node:fs";
import type net from "node:net";
import { dirname, join } from "node:path";

/**
 * The longest Unix socket path the platform takes, in bytes: `sun_path` less
 * its terminating NUL (108 − 1 on Linux, 104 − 1 on macOS and the BSDs). Node
 * cuts a longer path short without a word, so a server would listen on (and
 * leave behind) a file of another name.
 */
export const MAX_UNIX_PATH_BYTES = process.platform === "linux" ? 107 : 103;

/** Whether `path` names a Linux abstract socket, which has no file. */
function isAbstract(path: string): boolean {
  return path.startsWith("\0");
}

/**
 * Checks a Unix socket path before a socket opens: a non-empty string of at
 * most {@link MAX_UNIX_PATH_BYTES} bytes in UTF-8 (a Linux abstract name,
 * starting with NUL, may use the NUL's byte too). Windows pipe names are not
 * checked.
 * @throws {TypeError} when `path` is not a non-empty string.
 * @throws {RangeError} when it is too long.
 */
export function validateUnixPath(path: unknown): string {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("Invalid Unix socket path: expected a non-empty string");
  }
  if (process.platform === "win32") return path;
  const bytes = Buffer.byteLength(path, "utf8");
  const max = isAbstract(path) ? MAX_UNIX_PATH_BYTES + 1 : MAX_UNIX_PATH_BYTES;
  if (bytes > max) {
    throw new RangeError(
      `Invalid Unix socket path: ${bytes} bytes is longer than the ${max} this platform allows: ${path}`,
    );
  }
  return path;
}

/** The identity of the file a server made: what `close()` compares before unlinking. */
interface FileId {
  dev: number;
  ino: number;
}

/**
 * Listens on a Unix socket at `path` with `listen` (which binds the given
 * path), and returns the function that removes the file at close, if it is
 * still the one made here.
 *
 * libuv unlinks the path it bound when the server closes, whatever is there
 * by then (a file made after start, another server's live socket). So the
 * socket is bound under a fresh temporary name in the same directory, then
 * linked to `path` (which fails, as a bind would, if something is there) and
 * the temporary name removed: libuv's unlink then finds nothing, and this
 * module alone decides what is removed.
 *
 * A missing directory is reported as ENOENT (the kernel says EACCES for it).
 * @throws {RangeError} when `path` is too long (see {@link validateUnixPath}).
 */
export async function listenUnix(
  path: string,
  listen: (path: string) => Promise<net.Server>,
): Promise<{ server: net.Server; cleanup: () => void }> {
  validateUnixPath(path);
  if (process.platform === "win32" || isAbstract(path)) {
    return { server: await listen(path), cleanup: () => {} };
  }
  checkDirectory(path);
  removeStaleSocket(path);
  const temp = temporaryName(path);
  if (temp === undefined) {
    // No room for a temporary name beside a path this long: bind it directly,
    // and leave the unlink at close to libuv.
    return { server: await listen(path), cleanup: () => {} };
  }
  const server = await listen(temp).catch((error: unknown) => {
    throw renamed(error, temp, path);
  });
  let id: FileId;
  try {
    try {
      linkSync(temp, path);
    } catch (error) {
      throw bindError(error, path);
    } finally {
      unlinkQuietly(temp);
    }
    const { dev, ino } = lstatSync(path);
    id = { dev, ino };
  } catch (error) {
    server.close();
    throw error;
  }
  return { server, cleanup: () => removeIfSame(path, id) };
}

function checkDirectory(path: string): void {
  const dir = dirname(path);
  try {
    statSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return;
    const missing = new Error(
      `Cannot listen on Unix socket ${path}: directory ${dir} does not exist`,
      { cause: error },
    ) as NodeJS.ErrnoException;
    missing.code = "ENOENT";
    missing.syscall = "listen";
    missing.path = path;
    throw missing;
  }
}

/** As asyncio: a socket file left by a server that died is removed before binding; any other file is kept. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there (or not ours to remove): the link reports what matters.
  }
}

/** A name beside `path` that is no longer than the platform allows, or `undefined` if none fits. */
function temporaryName(path: string): string | undefined {
  const dir = dirname(path);
  const room = MAX_UNIX_PATH_BYTES - Buffer.byteLength(join(dir, ".x"), "utf8") + 1;
  if (room < 4) return undefined;
  const random = randomBytes(8).toString("hex").slice(0, Math.min(room, 12));
  return join(dir, `.${random}`);
}

/** A failed link is reported as the bind would have been: EADDRINUSE when the path is taken. */
function bindError(error: unknown, path: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== "EEXIST") return error as Error;
  const inUse = new Error(`listen EADDRINUSE: address already in use ${path}`, {
    cause: error,
  }) as NodeJS.ErrnoException;
  inUse.code = "EADDRINUSE";
  inUse.syscall = "listen";
  inUse.path = path;
  return inUse;
}

/** An error of the bind under `temp`, told as it would have been for `path`. */
function renamed(error: unknown, temp: string, path: string): unknown {
  if (!(error instanceof Error)) return error;
  const errno = error as NodeJS.ErrnoException & { address?: string };
  errno.message = errno.message.replaceAll(temp, path);
  if (errno.address === temp) errno.address = path;
  if (errno.path === temp) errno.path = path;
  return error;
}

function removeIfSame(path: string, id: FileId): void {
  try {
    const now = lstatSync(path);
    if (now.dev === id.dev && now.ino === id.ino) unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}
