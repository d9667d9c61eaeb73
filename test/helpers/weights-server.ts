/**
 * A loopback HTTP server (127.0.0.1, port 0) for download tests: serves files with or without
 * Range support and validators (ETag, Last-Modified, honoured in If-Range), can drop the connection
 * after some bytes, and logs every request's Range and If-Range headers, status and body bytes sent.
 * A route is read at each request, so a test can change its file between two runs.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  status?: number;
  body: Uint8Array;
  type?: string;
  /** Answer Range requests with 206 (default true). */
  ranges?: boolean;
  etag?: string;
  lastModified?: string;
  /** Send the whole file when If-Range names another version (default true; false: ignore If-Range). */
  ifRange?: boolean;
  /** Destroy the socket after this many body bytes, for the first `drops` responses. */
  dropAfter?: number;
  drops?: number;
  /** Applied to the route once a response has dropped (a file replaced mid-download). */
  then?: Partial<Route>;
}

export interface WeightsServer {
  url(path: string): string;
  /** The routes served, read at each request: a test may add or change one. */
  routes: Record<string, Route>;
  /** Each request: path, its Range and If-Range headers ('' if none), the status and the body bytes sent. */
  log: { path: string; range: string; ifRange: string; status: number; bytes: number }[];
  close(): Promise<void>;
}

export async function weightsServer(routes: Record<string, Route>): Promise<WeightsServer> {
  const log: WeightsServer['log'] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const range = req.headers.range ?? '';
    const ifRange = String(req.headers['if-range'] ?? '');
    const entry = { path, range, ifRange, status: 404, bytes: 0 };
    log.push(entry);
    const r = routes[path];
    if (!r) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let body = r.body;
    let status = r.status ?? 200;
    const headers: Record<string, string> = { 'content-type': r.type ?? 'application/octet-stream' };
    if (r.etag) headers.etag = r.etag;
    if (r.lastModified) headers['last-modified'] = r.lastModified;
    const m = /^bytes=(\d+)-$/.exec(range);
    const sameVersion = !ifRange || !(r.ifRange ?? true) || ifRange === r.etag || ifRange === r.lastModified;
    if (m && (r.ranges ?? true) && status === 200 && sameVersion) {
      const from = Number(m[1]);
      if (from >= body.length) {
        entry.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      headers['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
      body = body.subarray(from);
      status = 206;
    }
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    entry.status = status;
    if (r.dropAfter !== undefined && (r.drops ?? 1) > 0 && body.length > r.dropAfter) {
      r.drops = (r.drops ?? 1) - 1;
      entry.bytes = r.dropAfter;
      if (r.then) Object.assign(r, r.then, { then: undefined });
      res.write(body.subarray(0, r.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    entry.bytes = body.length;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    routes,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
