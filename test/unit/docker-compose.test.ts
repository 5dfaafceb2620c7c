// No Docker engine runs here, so the compose file is held to the code instead: it parses, names
// every service, and its ports, URLs and variables are the ones the services read. The
// observability profile's configuration files are held to the metric names the services expose.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, skipped } from '../support/available.js';
import { parse, stringify } from 'yaml';
import { envVarsOf, loadGatewayConfig, loadSubgraphConfig } from '../../lib/config.js';
import { generateSigningKey, privateKeyJson, publicKeysJson } from '../../lib/security/keys.js';
import { ROOT } from '../../lib/paths.js';
import { DEFAULT_PORTS, portVar, SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { labelsIn, labelsOf, METRICS, SERIES, seriesIn } from '../support/metrics-contract.js';

interface ComposeService {
  image?: string;
  command?: string[];
  /** A variable without a value (null) is passed through from .env or the shell, or left unset. */
  environment?: Record<string, string | null>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const text = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;

/** What an operator puts in .env: `npm run keys` output and a database password. */
const users = generateSigningKey();
const orders = generateSigningKey();
const dotEnv: Record<string, string> = {
  USER_TOKEN_PRIVATE_KEY: privateKeyJson(users),
  USER_TOKEN_PUBLIC_KEYS: publicKeysJson([users]),
  ORDERS_TOKEN_PRIVATE_KEY: privateKeyJson(orders),
  ORDERS_TOKEN_PUBLIC_KEYS: publicKeysJson([orders]),
  POSTGRES_PASSWORD: 'a-password-from-dot-env',
};
const REFERENCE = /\$\{(\w+)(?:(:?[-?+])([^}]*))?\}/g;
/** Interpolates `${VAR}` and `${VAR:?message}` the way compose does: a missing required variable stops it with the message. */
const interpolate = (value: string, vars: Record<string, string>) =>
  value.replace(REFERENCE, (_, name: string, operator: string | undefined, message: string) => {
    if (operator && operator !== ':?') throw new Error(`\${${name}${operator}}: only required variables (:?) are allowed`);
    if (vars[name]) return vars[name];
    if (operator) throw new Error(`required variable ${name} is missing a value: ${message}`);
    return '';
  });
const resolved = (env: Record<string, string | null> = {}, vars = dotEnv) =>
  Object.fromEntries(
    Object.entries(env).flatMap(([k, v]) => (v === null ? (vars[k] ? [[k, vars[k]]] : []) : [[k, interpolate(String(v), vars)]])),
  );
const profileOf = (service: ComposeService) => service.profiles ?? [];

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, the four subgraphs and the gateway; the observability profile adds Jaeger, Prometheus and Grafana', () => {
    const inProfile = (profile: string | undefined) =>
      Object.keys(services)
        .filter((name) => (profile ? profileOf(services[name]!).includes(profile) : profileOf(services[name]!).length === 0))
        .sort();
    expect(inProfile(undefined)).toEqual(['gateway', 'postgres', ...SERVICE_NAMES].sort());
    expect(inProfile('observability')).toEqual(['grafana', 'jaeger', 'prometheus']);
    expect(services.postgres!.healthcheck).toBeDefined();
  });

  it.each(SERVICE_NAMES)('starts %s from its entry point with a config the code accepts', (name: ServiceName) => {
    const service = services[name]!;
    const entry = service.command!.at(-1)!;
    expect(entry).toBe(`subgraphs/${name}/index.ts`);
    expect(existsSync(path.join(ROOT, entry))).toBe(true);

    const env = resolved(service.environment);
    expect(Object.keys(env).filter((k) => !envVarsOf(name).includes(k))).toEqual([]);
    const config = loadSubgraphConfig(name, env);
    expect(config.production).toBe(true);
    expect(config.port).toBe(DEFAULT_PORTS[name]);
    expect(service.healthcheck!.test.join(' ')).toContain(`localhost:${config.port}/ready`);
    expect(service.depends_on).toHaveProperty('postgres');

    const db = new URL(config.databaseUrl!);
    expect(db.hostname).toBe('postgres');
    expect(readFileSync(path.join(ROOT, 'docker/postgres-init.sql'), 'utf8')).toContain(`CREATE DATABASE ${db.pathname.slice(1)};`);
    for (const other of SERVICE_NAMES) {
      expect(config.subgraphUrls[other]).toBe(`http://${other}:${resolved(services[other]!.environment)[`${other.toUpperCase()}_PORT`]}/graphql`);
    }
  });

  it('publishes the gateway on its port once every subgraph is healthy', () => {
    const gateway = services.gateway!;
    const env = resolved(gateway.environment);
    expect(Object.keys(env).filter((k) => !envVarsOf('gateway').includes(k))).toEqual([]);
    const config = loadGatewayConfig(env);
    expect(gateway.ports).toEqual([`${config.port}:${config.port}`]);
    expect(existsSync(path.join(ROOT, gateway.command!.at(-1)!))).toBe(true);
    for (const name of SERVICE_NAMES) expect(gateway.depends_on![name]).toEqual({ condition: 'service_healthy' });
  });

  it('builds an image that has the generated Prisma clients', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN npm ci/);
    expect(dockerfile).toMatch(/RUN npm run generate/);
  });

  it('has no default for any key or password: each one is required, with a message saying where it comes from', () => {
    const references = [...text.matchAll(REFERENCE)].map(([, name, operator, message]) => ({ name: name!, operator, message }));
    expect(references.filter((r) => r.operator && r.operator !== ':?')).toEqual([]);
    const required = new Set(references.filter((r) => r.operator === ':?' && r.message!.length > 10).map((r) => r.name));
    expect([...required].sort()).toEqual(Object.keys(dotEnv).sort());
    // A bare ${VAR} is only allowed for a variable that is required elsewhere (compose checks the whole file first).
    expect(references.filter((r) => !required.has(r.name))).toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (/KEY|SECRET|PASSWORD/.test(variable)) expect(value, `${name}.${variable}`).toMatch(/^\$\{\w+:\?[^}]+\}$/);
        if (/DATABASE_URL/.test(variable)) expect(new URL(interpolate(String(value), dotEnv)).password).toBe(dotEnv.POSTGRES_PASSWORD);
      }
      expect(service.environment ?? {}).not.toHaveProperty('SEED');
      expect(service.environment ?? {}).not.toHaveProperty('JWT_SECRET');
    }
  });

  it.each(Object.keys(dotEnv))('stops without %s, naming it', (variable) => {
    const { [variable]: _, ...rest } = dotEnv;
    const failures = Object.values(services).flatMap((service) => {
      try {
        resolved(service.environment, rest);
        return [];
      } catch (err) {
        return [(err as Error).message];
      }
    });
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(failure).toMatch(new RegExp(`required variable ${variable} is missing a value: .*(npm run keys|POSTGRES_PASSWORD)`));
  });

  it('gives each private key only to the service that signs with it', () => {
    const holders = (variable: string) => Object.keys(services).filter((name) => variable in resolved(services[name]!.environment));
    expect(holders('USER_TOKEN_PRIVATE_KEY')).toEqual(['users']);
    expect(holders('ORDERS_TOKEN_PRIVATE_KEY')).toEqual(['orders']);
    expect(holders('ORDERS_TOKEN_PUBLIC_KEYS')).toEqual(['catalog']);
    expect(holders('USER_TOKEN_PUBLIC_KEYS').sort()).toEqual(['catalog', 'gateway', 'orders', 'reviews', 'users']);
  });
});

describe('the observability profile', () => {
  const profile = Object.fromEntries(Object.entries(services).filter(([, s]) => profileOf(s).includes('observability')));
  /** Host file mounted at `target` in a profile service, read. */
  const mounted = (service: string, target: string) => {
    const volume = profile[service]!.volumes!.find((v) => v.split(':')[1] === target);
    expect(volume, `${service} mounts ${target}`).toBeDefined();
    return path.join(ROOT, volume!.split(':')[0]!);
  };
  const readYaml = <T>(file: string) => parse(readFileSync(file, 'utf8')) as T;
  const OBSERVABILITY = path.join(ROOT, 'deploy/observability');
  const observabilityDoc = readFileSync(path.join(ROOT, 'docs/observability.md'), 'utf8');

  it('mounts configuration files that exist, and publishes its pages on this machine only', () => {
    for (const [name, service] of Object.entries(profile)) {
      for (const volume of service.volumes ?? []) expect(existsSync(path.join(ROOT, volume.split(':')[0]!)), `${name}: ${volume}`).toBe(true);
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
      expect(service.image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
    }
  });

  it('gives every service OTEL_EXPORTER_OTLP_ENDPOINT when .env sets it, and none otherwise', () => {
    const endpoint = 'http://jaeger:4318';
    for (const name of ['gateway', ...SERVICE_NAMES]) {
      expect(resolved(services[name]!.environment), name).not.toHaveProperty('OTEL_EXPORTER_OTLP_ENDPOINT');
      expect(resolved(services[name]!.environment, { ...dotEnv, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe(endpoint);
    }
    // The endpoint docs/observability.md gives is the profile's Jaeger, which takes OTLP over HTTP on 4318.
    expect(observabilityDoc.includes(`OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint}`), 'docs/observability.md names the endpoint').toBe(true);
    expect(profile.jaeger!.image).toMatch(/^jaegertracing\/jaeger:2\./);
  });

  it('has Prometheus scrape /metrics of every replica of every service, with the alert rules loaded', () => {
    const config = readYaml<{ rule_files: string[]; scrape_configs: { job_name: string; metrics_path?: string; dns_sd_configs: { names: string[]; type: string; port: number }[] }[] }>(
      mounted('prometheus', '/etc/prometheus/prometheus.yml'),
    );
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    mounted('prometheus', '/etc/prometheus/alerts.yml');
    for (const name of ['gateway', ...SERVICE_NAMES] as const) {
      const job = config.scrape_configs.find((j) => j.job_name === name);
      expect(job, name).toBeDefined();
      expect(job!.metrics_path ?? '/metrics').toBe('/metrics');
      const port = Number(resolved(services[name]!.environment)[name === 'gateway' ? 'GATEWAY_PORT' : portVar(name)]);
      // DNS A records of the compose service name list every replica (`--scale`).
      expect(job!.dns_sd_configs).toEqual([{ names: [name], type: 'A', port }]);
    }
  });

  it('finds the series names of a PromQL expression', () => {
    expect(seriesIn('histogram_quantile(0.95, sum by (le, service) (rate(foo_seconds_bucket{code=~"A|B", x="by (y)"}[$__rate_interval])))')).toEqual(['foo_seconds_bucket']);
    expect(seriesIn('sum(rate(a_total[5m])) / sum without (instance) (b_total) > 0.9 * 512 * 1e3 and on (job) up == 0')).toEqual(['a_total', 'b_total', 'up']);
    expect(labelsIn('sum by (le, service) (rate(x_bucket{code=~"A|B", reason!="by (y)"}[5m])) / on(job) y')).toEqual(['code', 'reason', 'le', 'service', 'job']);
  });

  /** Labels an expression (and its legend or summary, `{{ $labels.x }}` / `{{x}}`) names that its metrics do not have. */
  const unknownLabels = (expr: string, template = '') => {
    const allowed = labelsOf(seriesIn(expr));
    const templated = [...template.matchAll(/\{\{\s*(?:\$labels\.)?(\w+)\s*\}\}/g)].map(([, name]) => name!);
    return [...labelsIn(expr), ...templated].filter((label) => !allowed.has(label));
  };

  describe('alert rules (deploy/observability/alerts.yml)', () => {
    const rules = readYaml<{ groups: { rules: { alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }[] }[] }>(
      path.join(OBSERVABILITY, 'alerts.yml'),
    ).groups.flatMap((g) => g.rules);

    it.each(rules.map((r) => [r.alert, r] as const))('%s queries only metrics the services expose, and docs/observability.md explains it', (name, rule) => {
      const series = seriesIn(rule.expr);
      expect(series.length).toBeGreaterThan(0);
      expect(series.filter((s) => !SERIES.has(s))).toEqual([]);
      expect(unknownLabels(rule.expr, rule.annotations.summary.replace(/\{\{\s*\$value[^}]*\}\}/g, ''))).toEqual([]);
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      expect(observabilityDoc.includes(`\`${name}\``), `docs/observability.md explains ${name}`).toBe(true);
    });
  });

  describe('Grafana', () => {
    type Panel = { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; legendFormat: string; datasource: { uid: string } }[]; panels?: Panel[] };
    const dashboardsDir = mounted('grafana', '/var/lib/grafana/dashboards');
    const provisioning = mounted('grafana', '/etc/grafana/provisioning');
    const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(path.join(provisioning, 'datasources/datasources.yml')).datasources;
    const dashboard = JSON.parse(readFileSync(path.join(dashboardsDir, 'supergraph.json'), 'utf8')) as {
      uid: string;
      panels: Panel[];
      templating: { list: { query: { query: string } }[] };
    };
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    const queried = new Set(panels.flatMap((p) => (p.targets ?? []).flatMap((t) => seriesIn(t.expr))));

    it('provisions Prometheus and Jaeger from the profile, and the dashboards folder that is mounted', () => {
      const byType = Object.fromEntries(datasources.map((d) => [d.type, new URL(d.url)]));
      expect(byType.prometheus?.host).toBe('prometheus:9090');
      expect(byType.jaeger?.host).toBe('jaeger:16686');
      const providers = readYaml<{ providers: { options: { path: string } }[] }>(path.join(provisioning, 'dashboards/dashboards.yml')).providers;
      expect(providers.map((p) => p.options.path)).toEqual(['/var/lib/grafana/dashboards']);
    });

    it('has a dashboard whose every panel queries the provisioned Prometheus for metrics the services expose', () => {
      expect(panels.length).toBeGreaterThan(10);
      const prometheus = datasources.find((d) => d.type === 'prometheus')!.uid;
      for (const panel of panels) {
        expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
        for (const target of panel.targets!) {
          expect(target.datasource.uid, panel.title).toBe(prometheus);
          expect(seriesIn(target.expr).filter((s) => !SERIES.has(s)), `${panel.title}: ${target.expr}`).toEqual([]);
          expect(unknownLabels(target.expr, target.legendFormat), `${panel.title}: ${target.expr}`).toEqual([]);
        }
      }
      for (const variable of dashboard.templating.list) {
        const metric = /^label_values\((\w+),/.exec(variable.query.query)?.[1];
        expect(metric && SERIES.has(metric), variable.query.query).toBe(true);
      }
    });

    it('shows requests, latency and errors per operation, subgraph fetches, order outcomes, event-loop lag and memory', () => {
      const histogram = (name: keyof typeof METRICS) => `${name}_bucket`;
      for (const series of [
        'graphql_requests_total',
        histogram('graphql_request_duration_seconds'),
        'graphql_errors_total',
        histogram('gateway_subgraph_fetch_duration_seconds'),
        'gateway_subgraph_fetch_failures_total',
        'gateway_query_plan_cache_total',
        'gateway_client_operations_total',
        'orders_saga_outcomes_total',
        'orders_recovery_actions_total',
        histogram('db_statement_duration_seconds'),
        'nodejs_eventloop_lag_p99_seconds',
        'process_resident_memory_bytes',
      ]) {
        expect(queried.has(series), series).toBe(true);
      }
    });
  });
});

// Where Prometheus's promtool is installed (CI installs it: .ci/run; an operator's machine), it checks what the
// tests above cannot: the expressions parse, the configuration loads, and the alerts fire (and stay
// quiet) on the series in deploy/observability/alerts.test.yml.
const noPromtool = await missing('promtool');
describe.skipIf(noPromtool !== undefined)(skipped('promtool', noPromtool), () => {
  const OBSERVABILITY = path.join(ROOT, 'deploy/observability');
  const promtool = (...args: string[]) => {
    const run = spawnSync('promtool', args, { encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  };
  const temp = (name: string, text: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'promtool-')), name);
    writeFileSync(file, text);
    return file;
  };

  it('loads prometheus.yml and its rules', () => {
    const config = readFileSync(path.join(OBSERVABILITY, 'prometheus.yml'), 'utf8').replace('/etc/prometheus/alerts.yml', path.join(OBSERVABILITY, 'alerts.yml'));
    expect(promtool('check', 'config', temp('prometheus.yml', config))).toMatchObject({ status: 0 });
  });

  it('fires each tested alert when it should, and only then', () => {
    expect(promtool('test', 'rules', path.join(OBSERVABILITY, 'alerts.test.yml'))).toMatchObject({ status: 0 });
  });

  it('parses every query of the dashboard', () => {
    const dashboard = JSON.parse(readFileSync(path.join(OBSERVABILITY, 'grafana/dashboards/supergraph.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$service', 'gateway'));
    const rules = { groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] };
    expect(promtool('check', 'rules', temp('dashboard-rules.yml', stringify(rules)))).toMatchObject({ status: 0 });
  });
});
