// The OTEL_* variables configure the exporter: with an endpoint, the services load the SDK and
// send OTLP/HTTP to it (a receiver in this test); with none, nothing is loaded or sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, stopTracing, tracesExporterFrom, tracingEnabled } from '../../lib/telemetry/tracing.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { operation, startStack, type Stack } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

describe('which exporter the environment asks for', () => {
  it('none without OTEL_* variables, otlp with an endpoint, and what OTEL_TRACES_EXPORTER says', () => {
    expect(tracesExporterFrom({})).toBeUndefined();
    expect(tracesExporterFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })).toBe('otlp');
    expect(tracesExporterFrom({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://jaeger:4318/v1/traces' })).toBe('otlp');
    expect(tracesExporterFrom({ OTEL_TRACES_EXPORTER: 'console' })).toBe('console');
    expect(tracesExporterFrom({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })).toBeUndefined();
    expect(tracesExporterFrom({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })).toBeUndefined();
  });

  it('refuses what it cannot honour, naming the variable', () => {
    expect(() => tracesExporterFrom({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER must be otlp, console or none/);
    expect(() => tracesExporterFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger 4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be a URL/);
  });

  it('starts nothing when nothing is asked', async () => {
    await startTracing('users', {});
    expect(tracingEnabled()).toBe(false);
  });
});

describe('exporting over OTLP/HTTP', () => {
  const saved = { ...process.env };
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let stack: Stack;
  // Started before the test, as every stack in this suite is: with the SDK loaded in every service.
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // The exporter reads these when it is built, as in a deployed service.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_SERVICE_NAME = 'commerce-otlp-test';
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    stack = await startStack('pglite');
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    process.env = saved;
    await stopTracing();
  });

  it('the services send their spans to OTEL_EXPORTER_OTLP_ENDPOINT, under OTEL_SERVICE_NAME', async () => {
    expect(tracingEnabled()).toBe(true);
    const res = await stack.request(operation('ProductList'), { first: 2 });
    expect(res.errors).toBeUndefined();
    const trace = await waitFor('the exported spans of ProductList with their SQL', () => {
      const server = receiver.spans.find((s) => s.name === 'query ProductList');
      const sql = server && receiver.spans.filter((s) => s.traceId === server.traceId && s.name === 'prisma:client:db_query');
      if (!server || !sql?.length) throw new Error('not exported yet');
      return receiver.spans.filter((s) => s.traceId === server.traceId);
    });
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['commerce-otlp-test']));
    expect(trace.map((s) => s.name)).toEqual(expect.arrayContaining(['gateway.plan', 'gateway.fetch', 'query ProductList__catalog__0', 'resolve Query.products']));
    expect([...receiver.contentTypes]).toEqual(['application/json']);
  });
});
