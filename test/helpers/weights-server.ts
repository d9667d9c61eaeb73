/**
 * A loopback HTTP server (127.0.0.1, port 0) for download tests: serves files with or without
 * Range support, can drop the connection after some bytes, and logs every request's Range header.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  status?: number;
  body: Uint8Array;
  type?: string;
  /** Answer Range requests with 206 (default true). */
  ranges?: boolean;
  /** Destroy the socket after this many body bytes, for the first `drops` responses. */
  dropAfter?: number;
  drops?: number;
}

export interface WeightsServer {
  url(path: string): string;
  /** Each request: path and its Range header ('' if none). */
  log: { path: string; range: string }[];
  close(): Promise<void>;
}

export async function weightsServer(routes: Record<string, Route>): Promise<WeightsServer> {
  const log: WeightsServer['log'] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const range = req.headers.range ?? '';
    log.push({ path, range });
    const r = routes[path];
    if (!r) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let body = r.body;
    let status = r.status ?? 200;
    const headers: Record<string, string> = { 'content-type': r.type ?? 'application/octet-stream' };
    const m = /^bytes=(\d+)-$/.exec(range);
    if (m && (r.ranges ?? true) && status === 200) {
      const from = Number(m[1]);
      if (from >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      headers['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
      body = body.subarray(from);
      status = 206;
    }
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    if (r.dropAfter !== undefined && (r.drops ?? 1) > 0 && body.length > r.dropAfter) {
      r.drops = (r.drops ?? 1) - 1;
      res.write(body.subarray(0, r.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
