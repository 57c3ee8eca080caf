// 17.1 /metrics: Prometheus' text format, for the holder of the bearer token an admin made (Settings → Metrics). An
// open surface (proxy.ts lets it through without a session): the token is all it asks for. Without a token set it
// answers nobody.
import { connection } from 'next/server';

import { checkMetricsAccess } from '@/lib/control/metrics-token';
import { metricsText } from '@/lib/control/metrics';

const headers = { 'Cache-Control': 'no-store' };

export async function GET(request: Request) {
  await connection();
  const access = checkMetricsAccess(request.headers.get('authorization'));
  if (access === 'off')
    return new Response('metrics are off: an admin makes a token for them in Settings → Metrics\n', {
      status: 403,
      headers,
    });
  if (access === 'refused')
    return new Response('give the metrics token as Authorization: Bearer <token>\n', {
      status: 401,
      headers: { ...headers, 'WWW-Authenticate': 'Bearer realm="lifeline metrics"' },
    });
  const { text, contentType } = await metricsText();
  return new Response(text, { headers: { ...headers, 'Content-Type': contentType } });
}
