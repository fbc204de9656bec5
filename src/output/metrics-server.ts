// GET /metrics over HTTP for a Prometheus server to scrape; nothing else is
// served (404), and nothing here can stop a poll: a scrape only reads what
// the last poll left in the registry.
import { createServer, type Server } from 'node:http';
import type { SocketMetrics } from './metrics.js';

export interface MetricsServer {
  /** Where it listens ("127.0.0.1:9808"). */
  readonly address: string;
  close(): Promise<void>;
}

/** Listens on host:port; rejects with the system's reason (EADDRINUSE, EACCES, EADDRNOTAVAIL). */
export function serveMetrics(metrics: SocketMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('socketwatch serves /metrics only\n');
      return;
    }
    metrics.exposition().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'Content-Type': contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', () => {}); // a client's broken connection is the client's
      server.unref(); // it serves while the run runs; it does not keep the process up
      resolve({
        address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
        close: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}
