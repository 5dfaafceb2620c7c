// Explicit service-to-service GraphQL calls (the only way a subgraph learns another's data outside
// the gateway's entity resolution), with a timeout and errors that say which service failed.
import { serviceUnavailable } from '../errors.js';
import { REQUEST_ID_HEADER } from '../server/request-id.js';
import { inSpan, traceHeaders } from '../telemetry/tracing.js';

export interface ServiceCall {
  query: string;
  variables?: Record<string, unknown>;
  authorization?: string | undefined;
  requestId?: string;
  timeoutMs?: number;
}

export class ServiceError extends Error {
  constructor(
    message: string,
    readonly errors: { message: string; extensions?: { code?: string } }[] = [],
  ) {
    super(message);
  }
}

/** POSTs a GraphQL operation; throws SERVICE_UNAVAILABLE when the service cannot be reached in time. */
export async function callService<T>(service: string, url: string, call: ServiceCall): Promise<T> {
  // A CLIENT span per call (when traced), whose context the callee continues through `traceparent`.
  return inSpan(`call ${service}`, { 'server.address': service }, () => post<T>(service, url, call));
}

async function post<T>(service: string, url: string, call: ServiceCall): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        ...traceHeaders(),
        'content-type': 'application/json',
        ...(call.authorization ? { authorization: call.authorization } : {}),
        ...(call.requestId ? { [REQUEST_ID_HEADER]: call.requestId } : {}),
      },
      body: JSON.stringify({ query: call.query, variables: call.variables ?? {} }),
      signal: AbortSignal.timeout(call.timeoutMs ?? 5_000),
    });
  } catch {
    throw serviceUnavailable(`the ${service} service is unavailable, try again later`);
  }
  const body = (await response.json().catch(() => null)) as { data?: T; errors?: ServiceError['errors'] } | null;
  if (!body) throw serviceUnavailable(`the ${service} service answered with HTTP ${response.status}`);
  if (body.errors?.length) throw new ServiceError(`${service}: ${body.errors.map((e) => e.message).join('; ')}`, body.errors);
  return body.data as T;
}
