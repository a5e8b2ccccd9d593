// A Unix socket that only this user can reach, for a worker's main process to hear its job
// processes (the metrics relay, the job watch). It lives in a fresh directory of its own, removed
// when the process exits; directories that killed workers left behind (SIGKILL skips 'exit') are
// removed at the next start.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateSocket {
  /** The socket's path, for the job processes (through their inherited environment). */
  path: string;
  /** Closes every connection and the server, and removes the directory. */
  close(): Promise<void>;
}

/** Whether something listens on the Unix socket at `path`. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Removes the `<prefix>*` directories of killed workers: this user's, older than `minAgeMs` (a
 * worker starting right now may not listen yet), with nobody listening on their `file`.
 */
export async function removeStaleSocketDirs(
  prefix: string,
  file: string,
  parent = tmpdir(),
  minAgeMs = 60_000,
): Promise<string[]> {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(parent, name);
    try {
      const st = statSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (Date.now() - st.mtimeMs < minAgeMs) continue;
      if (await listening(join(dir, file))) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

/**
 * Listens on `<tmpdir>/<prefix>XXXXXX/<file>` after removing stale directories of the same prefix;
 * each connection goes to `onConnection`. The server does not keep the process alive.
 */
export async function listenPrivateSocket(
  prefix: string,
  file: string,
  onConnection: (socket: Socket) => void,
): Promise<PrivateSocket> {
  await removeStaleSocketDirs(prefix, file);
  // A directory only this user can enter: no other local user can connect.
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, file);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  server.unref();
  // The framework ends the worker with process.exit(): the directory goes with the process.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  return {
    path,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      process.off('exit', removeDir);
      removeDir();
    },
  };
}
