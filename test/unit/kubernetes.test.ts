// No cluster here, so the manifests in deploy/kubernetes are rendered with the repository's
// Kustomize renderer (compared with kubectl's where it is installed), validated against the
// Kubernetes schemas (kubernetes-models, strictly: an unknown field is an error, as with
// kubeconform -strict), and held to docker-compose.yml and to the code: same image, commands,
// ports and variables, and a configuration each service accepts.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import { ConfigMap, Namespace, Secret, Service as KubeService } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { describe, expect, it } from 'vitest';
import { missing, skipped } from '../support/available.js';
import { parse, parseAllDocuments } from 'yaml';
import { envVarsOf, loadDatabaseConfig, loadGatewayConfig, loadSubgraphConfig } from '../../lib/config.js';
import { developmentKey, generateSigningKey, ISSUERS, keyEnvOf, privateKeyJson } from '../../lib/security/keys.js';
import { ROOT } from '../../lib/paths.js';
import { databaseUrlVar, portVar, SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { renderKustomization, type KubeObject } from '../../scripts/kustomize.js';
import { SECRET_NAME, SECRET_VARIABLES } from '../../scripts/kubernetes-secret.js';
import { SUPERGRAPH_CONFIGMAP, SUPERGRAPH_KEY } from '../../scripts/kubernetes-supergraph.js';

/** Why kubectl cannot be run here, if it cannot (test/support/available.ts). */
const noKubectl = await missing('kubectl');

const SERVICES = ['gateway', ...SERVICE_NAMES] as const;
type Service = (typeof SERVICES)[number];

const APP_DIR = path.join(ROOT, 'deploy/kubernetes');
const MIGRATE_DIR = path.join(APP_DIR, 'migrate');
const app = renderKustomization(APP_DIR);
const migrate = renderKustomization(MIGRATE_DIR);

// Schemas ---------------------------------------------------------------------------------------

/** The model of every kind the manifests use; a kind missing here fails the test (add its model). */
const MODELS: Record<string, { prototype: { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': KubeService,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'batch/v1/Job': Job,
};

/** Wraps `value` so that every property the validator reads is recorded by its path. */
function tracked(value: unknown, at: string, read: Set<string>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = `${at}/${String(key)}`;
      if (typeof key === 'string') read.add(child);
      return tracked(Reflect.get(target, key, receiver), child, read);
    },
  });
}

function fieldPaths(value: unknown, at: string): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [`${at}/${key}`, ...fieldPaths(child, `${at}/${key}`)]);
}

/**
 * Validates against the object's schema and returns what is wrong: schema errors, and fields the
 * schema does not know. kubernetes-models' validators accept unknown fields, but they read every
 * field they know (and every entry of a map), so a field they never read is not in the schema.
 */
function schemaProblems(object: KubeObject): string[] {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  const read = new Set<string>();
  try {
    model.prototype.validate.call(tracked(object, '', read));
  } catch (err) {
    return [(err as Error).message];
  }
  const unknown = fieldPaths(object, '').filter((p) => !read.has(p));
  return unknown.filter((p) => !unknown.includes(p.slice(0, p.lastIndexOf('/')))).map((p) => `unknown field ${p}`);
}

// Reading the rendered objects ----------------------------------------------------------------

interface Container {
  name: string;
  image: string;
  command: string[];
  ports: { name: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string } }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[]; terminationGracePeriodSeconds?: number; restartPolicy?: string; volumes?: { name: string; configMap?: { name: string } }[] };
}
type Selector = { matchLabels?: Record<string, string> };
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
}
interface PolicySpec {
  podSelector: Selector;
  policyTypes: string[];
  ingress?: { from?: Peer[]; ports?: { port: string | number }[] }[];
}

const find = (objects: KubeObject[], kind: string, name?: string) => objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objects: KubeObject[], kind: string, name: string) => {
  const found = find(objects, kind, name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0]!;
};
const deployment = (name: string) => one(app, 'Deployment', name) as KubeObject & { spec: { selector: Selector; template: PodTemplate } };
const containerOf = (name: string) => {
  const containers = deployment(name).spec.template.spec.containers;
  expect(containers).toHaveLength(1);
  return containers[0]!;
};
const matches = (selector: Selector | undefined, labels: Record<string, string>) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

const configMaps = new Map(find(app, 'ConfigMap').map((c) => [c.metadata.name, (c as KubeObject & { data: Record<string, string> }).data]));
const SECRET = SECRET_NAME;

/** The container's environment as Kubernetes gives it: the ConfigMap's entries, its own values, and `secret:<key>` for a Secret's. */
function environmentOf(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) Object.assign(env, configMaps.get(source.configMapRef!.name));
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    env[entry.name] = ref ? `secret:${ref.name}/${ref.key}` : entry.value!;
  }
  return env;
}

/** What an operator puts in the Secret: `npm run keys` and the database URLs. */
const users = generateSigningKey();
const orders = generateSigningKey();
const secretData: Record<string, string> = {
  ...keyEnvOf('users', { users, orders }),
  ...keyEnvOf('orders', { users, orders }),
  ...keyEnvOf('catalog', { users, orders }),
  ...Object.fromEntries(SERVICE_NAMES.map((name) => [databaseUrlVar(name), `postgresql://${name}:pw@db.internal:5432/${name}`])),
};
const withSecrets = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith(`secret:${SECRET}/`) ? secretData[v.slice(`secret:${SECRET}/`.length)]! : v]));

// docker-compose.yml, with the variables it interpolates filled in.
interface ComposeService {
  image?: string;
  command: string[];
  environment: Record<string, string | null>;
}
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
/** Variable names of a compose service; pass-through ones (no value) are optional and left out. */
const composeVars = (service: Service) =>
  Object.entries(compose.services[service]!.environment)
    .filter(([, value]) => value !== null)
    .map(([name]) => name)
    .sort();

/**
 * Variables only the cluster sets: the gateway serves its supergraph from a ConfigMap (mounted as a
 * directory), so that a new composition reaches running pods without a restart; compose serves the
 * image's file.
 */
const CLUSTER_ONLY: Partial<Record<Service, Record<string, string>>> = {
  gateway: { SUPERGRAPH_PATH: `/etc/supergraph/${SUPERGRAPH_KEY}` },
};

const imageName = (image: string) => image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');

// The drain ------------------------------------------------------------------------------------

/** How long a stopping service may take before lib/server/main.ts stops it hard. */
function hardStopSeconds(): number {
  const source = readFileSync(path.join(ROOT, 'lib/server/main.ts'), 'utf8');
  const timer = /setTimeout\(\(\) => process\.exit\(1\), ([\d_]+)\)/.exec(source);
  expect(timer, 'lib/server/main.ts: the hard-stop timer of the graceful shutdown').not.toBeNull();
  return Number(timer![1]!.replaceAll('_', '')) / 1000;
}

// -----------------------------------------------------------------------------------------------

describe('the Kustomize renderer', () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), 'kustomize-'));

  it('refuses a kustomization field it does not implement, naming it', () => {
    const d = dir();
    writeFileSync(path.join(d, 'kustomization.yaml'), 'resources: []\npatches:\n  - path: x.yaml\n');
    expect(() => renderKustomization(d)).toThrow(/patches not supported/);
  });

  it('refuses a missing resource and a document without a name', () => {
    const d = dir();
    writeFileSync(path.join(d, 'kustomization.yaml'), 'resources: [absent.yaml]\n');
    expect(() => renderKustomization(d)).toThrow(/resource absent.yaml does not exist/);
    writeFileSync(path.join(d, 'kustomization.yaml'), 'resources: [a.yaml]\n');
    writeFileSync(path.join(d, 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n');
    expect(() => renderKustomization(d)).toThrow(/metadata.name/);
  });

  // Where kubectl is installed (CI installs it: .ci/run), its Kustomize must render exactly the same objects (it orders them by kind).
  it.skipIf(noKubectl !== undefined).each(['deploy/kubernetes', 'deploy/kubernetes/migrate'])(skipped('renders %s as kubectl kustomize does', noKubectl), (relative) => {
    const dir = path.join(ROOT, relative);
    const rendered = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    expect(rendered.stderr).toBe('');
    const byId = (objects: KubeObject[]) => new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    const theirs = byId(parseAllDocuments(rendered.stdout).map((d) => d.toJS() as KubeObject));
    const ours = byId(renderKustomization(dir));
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [id, object] of ours) expect(isDeepStrictEqual(object, theirs.get(id)), id).toBe(true);
  });

  it('sets the namespace, the labels (on pod templates too) and the image', () => {
    const d = dir();
    writeFileSync(
      path.join(d, 'kustomization.yaml'),
      'namespace: shop\nlabels: [{pairs: {team: a}, includeTemplates: true}]\nresources: [a.yaml]\nimages: [{name: app, newName: reg.example/app, newTag: "2"}]\n',
    );
    writeFileSync(
      path.join(d, 'a.yaml'),
      'apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {containers: [{name: c, image: "app:1"}, {name: d, image: other}]}}}\n',
    );
    const [job] = renderKustomization(d) as (KubeObject & { spec: { template: PodTemplate } })[];
    expect(job!.metadata).toEqual({ name: 'j', namespace: 'shop', labels: { team: 'a' } });
    expect(job!.spec.template.metadata.labels).toEqual({ team: 'a' });
    expect(job!.spec.template.spec.containers.map((c) => c.image)).toEqual(['reg.example/app:2', 'other']);
  });
});

describe('deploy/kubernetes', () => {
  const all = [...app, ...migrate];

  it.each(all.map((o) => [`${o.kind} ${o.metadata.name}`, o] as const))('%s is valid against the Kubernetes schema', (_, object) => {
    expect(schemaProblems(object)).toEqual([]);
  });

  it('the schema check catches a misspelt field and a wrong type', () => {
    const typo = structuredClone(deployment('users')) as KubeObject & { spec: { template: PodTemplate } };
    const container = typo.spec.template.spec.containers[0]! as unknown as Record<string, unknown>;
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    expect(schemaProblems(typo)).toEqual(['unknown field /spec/template/spec/containers/0/readinesProbe']);
    const wrongType = structuredClone(deployment('users')) as unknown as KubeObject & { spec: { replicas: unknown } };
    wrongType.spec.replicas = 'two';
    expect(schemaProblems(wrongType).join()).toMatch(/replicas must be integer/);
  });

  it('puts everything in the one namespace it creates', () => {
    const [namespace, ...others] = find(app, 'Namespace');
    expect(others).toEqual([]);
    for (const o of all.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(namespace!.metadata.name);
  });

  it.each(SERVICES)('runs %s from the compose image, command and port', (service) => {
    const container = containerOf(service);
    const fromCompose = compose.services[service]!;
    expect(fromCompose.image).toBeDefined();
    expect(imageName(container.image)).toBe(fromCompose.image);
    expect(container.command).toEqual(fromCompose.command);
    const port = Number(fromCompose.environment[service === 'gateway' ? 'GATEWAY_PORT' : portVar(service)]);
    expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
    const svc = one(app, 'Service', service) as KubeObject & { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } };
    expect(svc.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http' }]);
    expect(matches({ matchLabels: svc.spec.selector }, deployment(service).spec.template.metadata.labels)).toBe(true);
  });

  it.each(SERVICES)('gives %s the variables compose gives it, with the same values, and a configuration it accepts', (service) => {
    const env = environmentOf(containerOf(service));
    const clusterOnly = CLUSTER_ONLY[service] ?? {};
    expect(Object.keys(env).sort()).toEqual([...composeVars(service), ...Object.keys(clusterOnly)].sort());
    for (const [name, value] of Object.entries(clusterOnly)) expect(env[name], name).toBe(value);
    for (const [name, value] of Object.entries(compose.services[service]!.environment)) {
      // Compose interpolates keys and passwords from .env; here they come from the Secret. Variables
      // compose passes through when set (OTEL_*) go into the ConfigMap when wanted.
      if (value === null) continue;
      if (value.includes('${')) expect(env[name], name).toBe(`secret:${SECRET}/${name}`);
      else expect(env[name], name).toBe(value);
    }
    expect(Object.keys(env).filter((k) => !envVarsOf(service).includes(k))).toEqual([]);
    const config = service === 'gateway' ? loadGatewayConfig(withSecrets(env)) : loadSubgraphConfig(service, withSecrets(env));
    expect(config.production).toBe(true);
    expect(config.port).toBe(containerOf(service).ports[0]!.containerPort);
  });

  it('takes every key and database URL from the Secret, each private key only where it signs', () => {
    const containers = [...SERVICES.map(containerOf), ...find(migrate, 'Job').flatMap((j) => (j.spec as { template: PodTemplate }).template.spec.containers)];
    const refs = containers.flatMap((c) => (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [{ container: c.name, variable: e.name, ...e.valueFrom.secretKeyRef }] : [])));
    for (const ref of refs) {
      expect(ref.name).toBe(SECRET);
      expect(ref.key).toBe(ref.variable);
    }
    expect([...new Set(refs.map((r) => r.key))].sort()).toEqual([...SECRET_VARIABLES].sort());
    expect(Object.keys(secretData).sort()).toEqual([...SECRET_VARIABLES].sort());
    const holders = (key: string) => [...new Set(refs.filter((r) => r.key === key).map((r) => r.container))].sort();
    expect(holders(ISSUERS.users.privateVar)).toEqual(['users']);
    expect(holders(ISSUERS.orders.privateVar)).toEqual(['orders']);
    expect(holders(ISSUERS.orders.publicVar)).toEqual(['catalog']);
    for (const name of SERVICE_NAMES) expect(holders(databaseUrlVar(name))).toEqual([name, 'migrate'].sort());
    // Nothing secret in the ConfigMap.
    for (const data of configMaps.values()) expect(Object.keys(data).filter((k) => /KEY|SECRET|PASSWORD|DATABASE_URL/.test(k))).toEqual([]);
    expect(find(all, 'Secret')).toEqual([]);
  });

  it.each(SERVICES)('%s has probes on /ready and /health, resources, a preStop pause and scrape annotations', (service) => {
    const template = deployment(service).spec.template;
    const container = containerOf(service);
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
    for (const kind of ['requests', 'limits'] as const) {
      expect(Object.keys(container.resources?.[kind] ?? {}).sort(), kind).toEqual(['cpu', 'memory']);
    }
    expect(container.lifecycle?.preStop?.exec?.command).toEqual(['sleep', expect.stringMatching(/^\d+$/)]);
    expect(template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(container.ports[0]!.containerPort),
      'prometheus.io/path': '/metrics',
    });
  });

  it.each(SERVICES)('%s is scaled by a HorizontalPodAutoscaler and protected by a PodDisruptionBudget', (service) => {
    const hpa = one(app, 'HorizontalPodAutoscaler', service) as KubeObject & {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number; metrics: { resource?: { name: string } }[] };
    };
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: service });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics.map((m) => m.resource?.name)).toContain('cpu');
    // The autoscaler owns the replica count; a count in the Deployment would be reset by every apply.
    expect(deployment(service).spec).not.toHaveProperty('replicas');
    const pdb = one(app, 'PodDisruptionBudget', service) as KubeObject & { spec: { selector: Selector; maxUnavailable: number } };
    expect(matches(pdb.spec.selector, deployment(service).spec.template.metadata.labels)).toBe(true);
    // A voluntary disruption always leaves a replica serving.
    expect(hpa.spec.minReplicas - pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
  });

  it.each(SERVICES)('%s is given longer to stop than its drain can take', (service) => {
    const pod = deployment(service).spec.template.spec;
    const preStop = Number(containerOf(service).lifecycle!.preStop!.exec!.command[1]);
    // The gateway may have a request in flight that waits for a subgraph as long as SUBGRAPH_TIMEOUT_MS.
    const inFlight = service === 'gateway' ? loadGatewayConfig(withSecrets(environmentOf(containerOf(service)))).subgraphTimeoutMs / 1000 : 0;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + Math.max(hardStopSeconds(), inFlight));
  });

  describe('network policies', () => {
    const policies = find(app, 'NetworkPolicy').map((p) => ({ name: p.metadata.name, spec: p.spec as PolicySpec }));
    /** Who may open a connection to a pod with these labels, as the policies say; `anyone` when a rule has no `from`. */
    const allowedPeers = (labels: Record<string, string>) =>
      policies
        .filter((p) => matches(p.spec.podSelector, labels) && p.spec.policyTypes.includes('Ingress'))
        .flatMap((p) => (p.spec.ingress ?? []).flatMap((rule): (Peer | 'anyone')[] => rule.from ?? ['anyone']))
        .map((peer) =>
          peer === 'anyone'
            ? peer
            : peer.namespaceSelector
              ? `namespace ${JSON.stringify(peer.namespaceSelector.matchLabels)} pods ${JSON.stringify(peer.podSelector?.matchLabels ?? {})}`
              : `pods ${peer.podSelector?.matchLabels?.['app.kubernetes.io/name']}`,
        )
        .sort();
    /** The subgraphs whose code calls this one (config.subgraphUrls.<name>). */
    const callersInCode = (name: ServiceName) =>
      SERVICE_NAMES.filter((caller) =>
        readdirSync(path.join(ROOT, 'subgraphs', caller))
          .filter((f) => f.endsWith('.ts'))
          .some((f) => readFileSync(path.join(ROOT, 'subgraphs', caller, f), 'utf8').includes(`subgraphUrls.${name}`)),
      );
    const PROMETHEUS = 'namespace {"kubernetes.io/metadata.name":"monitoring"} pods {"app.kubernetes.io/name":"prometheus"}';

    it('deny every connection no policy allows', () => {
      expect(policies.filter((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes('Ingress') && !p.spec.ingress)).toHaveLength(1);
    });

    it('let clients reach the gateway', () => {
      expect(allowedPeers(deployment('gateway').spec.template.metadata.labels)).toEqual([PROMETHEUS, 'anyone'].sort());
    });

    it.each(SERVICE_NAMES)('let only the gateway, the subgraphs that call it and Prometheus reach %s', (name) => {
      const callers = callersInCode(name);
      if (name === 'catalog') expect(callers).toEqual(['orders', 'reviews']);
      expect(allowedPeers(deployment(name).spec.template.metadata.labels)).toEqual([PROMETHEUS, 'pods gateway', ...callers.map((c) => `pods ${c}`)].sort());
    });

    it('open only the service port', () => {
      for (const p of policies) for (const rule of p.spec.ingress ?? []) expect(rule.ports, p.name).toEqual([{ port: 'http', protocol: 'TCP' }]);
    });
  });

  it('routes only /graphql of the gateway through the Ingress (not /metrics, /health or /ready)', () => {
    const ingress = one(app, 'Ingress', 'gateway') as KubeObject & {
      spec: { rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[] };
    };
    expect(ingress.spec.rules.flatMap((r) => r.http.paths)).toEqual([
      { path: '/graphql', pathType: 'Exact', backend: { service: { name: 'gateway', port: { name: 'http' } } } },
    ]);
  });
});

describe('deploy/kubernetes/migrate', () => {
  const job = one(migrate, 'Job', 'migrate') as KubeObject & { spec: { template: PodTemplate } };
  const [container] = job.spec.template.spec.containers;

  it('runs npm run migrate from the same image as the services', () => {
    const script = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.migrate!;
    expect(script).toBe('tsx scripts/migrate.ts');
    expect(container!.command).toEqual(['node', '--import', 'tsx', 'scripts/migrate.ts']);
    expect(container!.image).toBe(containerOf('gateway').image);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('gets only the database URLs, which the migration script accepts', () => {
    const env = environmentOf(container!);
    expect(Object.keys(env).sort()).toEqual(SERVICE_NAMES.map(databaseUrlVar).sort());
    for (const name of SERVICE_NAMES) expect(loadDatabaseConfig(name, withSecrets(env)).databaseUrl).toBe(secretData[databaseUrlVar(name)]);
  });
});

describe('the supergraph on Kubernetes', () => {
  const run = promisify(execFile);
  const tsx = (script: string, ...args: string[]) => run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT });
  it('mounts the supergraph ConfigMap as a directory (no subPath, which the kubelet never updates) where SUPERGRAPH_PATH points', () => {
    const volume = deployment('gateway').spec.template.spec.volumes?.find((v) => v.configMap?.name === SUPERGRAPH_CONFIGMAP);
    expect(volume).toBeDefined();
    const mount = containerOf('gateway').volumeMounts?.find((m) => m.name === volume!.name);
    expect(mount).toEqual({ name: volume!.name, mountPath: '/etc/supergraph', readOnly: true });
    const supergraphPath = loadGatewayConfig(withSecrets(environmentOf(containerOf('gateway')))).supergraphPath;
    expect(supergraphPath).toBe(path.posix.join(mount!.mountPath, SUPERGRAPH_KEY));
  });

  it('npm run k8s:supergraph makes that ConfigMap from the committed supergraph.graphql', async () => {
    const { stdout } = await tsx('scripts/kubernetes-supergraph.ts');
    const configMap = parse(stdout) as KubeObject & { data: Record<string, string> };
    expect(schemaProblems(configMap)).toEqual([]);
    expect(configMap.metadata).toEqual({ name: SUPERGRAPH_CONFIGMAP, namespace: find(app, 'Namespace')[0]!.metadata.name });
    expect(configMap.data).toEqual({ [SUPERGRAPH_KEY]: readFileSync(path.join(ROOT, 'supergraph.graphql'), 'utf8') });
  });

  it('npm run k8s:supergraph refuses a file that is not a valid supergraph and prints nothing', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'k8s-supergraph-')), 'supergraph.graphql');
    writeFileSync(file, 'type Query { hello: String }\n');
    const failure = await tsx('scripts/kubernetes-supergraph.ts', file).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failure).toMatchObject({ code: 1, stdout: '' });
    expect(failure!.stderr).toMatch(/not a valid supergraph/);
  });
});

describe('npm run k8s:secret', () => {
  const run = promisify(execFile);
  const tsx = (script: string, ...args: string[]) => run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT });
  const envFile = (text: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'k8s-secret-')), 'production.env');
    writeFileSync(file, text);
    return file;
  };
  const databaseUrls = SERVICE_NAMES.map((name) => `${databaseUrlVar(name)}=postgresql://${name}:pw@db.internal:5432/${name}`);

  it('makes the Secret the manifests read from npm run keys and the database URLs', async () => {
    const keys = (await tsx('scripts/keys.ts')).stdout;
    const { stdout } = await tsx('scripts/kubernetes-secret.ts', envFile([keys, ...databaseUrls].join('\n')));
    const secret = parse(stdout) as KubeObject & { stringData: Record<string, string> };
    expect(schemaProblems(secret)).toEqual([]);
    expect(secret.metadata).toEqual({ name: SECRET, namespace: find(app, 'Namespace')[0]!.metadata.name });
    expect(Object.keys(secret.stringData).sort()).toEqual([...SECRET_VARIABLES].sort());
    // Every service accepts what it gets from it, in production.
    const fromSecret = (env: Record<string, string>) =>
      Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith(`secret:${SECRET}/`) ? secret.stringData[v.slice(`secret:${SECRET}/`.length)]! : v]));
    expect(loadGatewayConfig(fromSecret(environmentOf(containerOf('gateway')))).production).toBe(true);
    for (const name of SERVICE_NAMES) expect(loadSubgraphConfig(name, fromSecret(environmentOf(containerOf(name)))).production).toBe(true);
  });

  it('refuses a published key and a missing URL, naming them, and prints nothing', async () => {
    const keys = (await tsx('scripts/keys.ts')).stdout.replace(/^USER_TOKEN_PRIVATE_KEY=.*$/m, `USER_TOKEN_PRIVATE_KEY='${privateKeyJson(developmentKey('users'))}'`);
    const failure = await tsx('scripts/kubernetes-secret.ts', envFile([keys, ...databaseUrls.slice(0, 3)].join('\n'))).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failure).toMatchObject({ code: 1, stdout: '' });
    expect(failure!.stderr).toMatch(/REVIEWS_DATABASE_URL: missing/);
    const withAllUrls = await tsx('scripts/kubernetes-secret.ts', envFile([keys, ...databaseUrls].join('\n'))).then(
      () => undefined,
      (err: { stderr: string }) => err,
    );
    expect(withAllUrls!.stderr).toMatch(/USER_TOKEN_PRIVATE_KEY: key \S+ is the development user-token key/);
  });
});
