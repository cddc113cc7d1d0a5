import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { markDatabaseError } from '../core/storage-errors.js';
import { buildApp } from './app.js';
import { createMetricsRegistry } from './metrics.js';

describe('the log line of a failed request', () => {
  it("names the answer's code, its words and the cause's code, so a grep of the log finds a database outage", async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const app = await buildApp({ logger, metrics: createMetricsRegistry(), security: { host: '127.0.0.1', accessToken: 'local-access-token-123', port: () => 3000 } });
    app.get('/api/down', async () => {
      throw markDatabaseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    });
    const r = await app.inject({ method: 'GET', url: '/api/down', headers: { host: '127.0.0.1:3000' } });
    expect(r.statusCode).toBe(503);
    const line = lines.map((l) => JSON.parse(l) as { msg: string; code?: string; err?: { code?: string } }).find((l) => l.msg.startsWith('request failed'));
    expect(line).toMatchObject({ code: 'database_unavailable', err: { code: 'ECONNREFUSED' } });
    // the guide's analyze_errors.sh: grep -c "connection.*error\|ECONNREFUSED.*postgres"
    expect(line?.msg).toMatch(/connection.*error/i);
    expect(line?.msg).toContain('PostgreSQL');
    await app.close();
  });
});
