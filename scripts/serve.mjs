// Serves the built dashboard: Next.js's request handler behind a plain Node HTTP server, the one place that knows
// which socket a request came on. It sets X-Forwarded-For to the client's address (client-address.mjs), dropping
// whatever the client sent, so the sign-in throttle counts by an address a client cannot choose.
// Usage: node scripts/serve.mjs --hostname HOST --port PORT (what `npm start` and the end-to-end tests run).
import http from 'node:http';
import { parseArgs } from 'node:util';

import { clientAddress } from './client-address.mjs';

process.env.NODE_ENV = 'production';
const { values } = parseArgs({ options: { hostname: { type: 'string' }, port: { type: 'string' } } });
const hostname = values.hostname ?? '127.0.0.1';
const port = Number(values.port ?? process.env.PORT ?? 3000);

const { default: next } = await import('next');
const app = next({ dev: false, hostname, port });
await app.prepare();
const handle = app.getRequestHandler();

const server = http.createServer((req, res) => {
  req.headers['x-forwarded-for'] = clientAddress(
    req.socket.remoteAddress,
    req.headers['x-forwarded-for'],
    process.env.LIFELINE_TRUSTED_PROXIES,
  );
  handle(req, res);
});
server.listen(port, hostname, () => console.log(`lifeline: serving on http://${hostname}:${port}`));

for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    server.close();
    // Open event streams would hold close() up: the process ends now, as `next start` does.
    process.exit(0);
  });
