// Renders a Kustomize directory the way `kubectl kustomize` does, for the features the manifests
// in deploy/kubernetes use: resources (files and directories), namespace, labels (with
// includeTemplates) and images. Anything else in a kustomization.yaml is refused by name, so this
// renderer can never silently produce something other than what kubectl would apply. The tests
// render with it, so they need no kubectl (and compare with kubectl's where it is installed);
// `npm run k8s:render -- <dir>` prints the objects.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'labels', 'images']);

/** Kinds that live outside any namespace (the ones a kustomization here may hold). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass']);
/** Kinds whose pod template `includeTemplates` labels. */
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

function yamlDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    return value === null || value === undefined ? [] : [value];
  });
}

function kustomizationOf(dir: string): Kustomization {
  const file = path.join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${dir}: no kustomization.yaml`);
  const [k] = yamlDocuments(file) as Kustomization[];
  if (!k) throw new Error(`${file}: empty`);
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`${file}: ${unsupported.join(', ')} not supported by this renderer (use kubectl kustomize)`);
  if (k.labels?.some((l) => l.includeSelectors)) throw new Error(`${file}: labels.includeSelectors not supported (selectors are immutable: set them in the resources)`);
  return k;
}

function asObject(value: unknown, source: string): KubeObject {
  const object = value as Partial<KubeObject>;
  if (typeof object !== 'object' || !object.apiVersion || !object.kind || !object.metadata?.name) {
    throw new Error(`${source}: every document needs apiVersion, kind and metadata.name`);
  }
  return object as KubeObject;
}

/** Every container list in an object (pod specs of workloads, job templates, pods). */
function containersOf(node: unknown): { image?: string }[] {
  if (Array.isArray(node)) return node.flatMap(containersOf);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    (key === 'containers' || key === 'initContainers') && Array.isArray(value) ? (value as { image?: string }[]) : containersOf(value),
  );
}

/** `name[:tag][@digest]` split the way Kustomize matches images: by name alone. */
function imageName(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

function setImages(objects: KubeObject[], images: NonNullable<Kustomization['images']>) {
  for (const container of objects.flatMap(containersOf)) {
    if (!container.image) continue;
    const rule = images.find((i) => i.name === imageName(container.image!));
    if (!rule) continue;
    const name = rule.newName ?? rule.name;
    const current = container.image.slice(imageName(container.image).length);
    const tag = rule.digest ? `@${rule.digest}` : rule.newTag ? `:${rule.newTag}` : current;
    container.image = `${name}${tag}`;
  }
}

/** The objects a Kustomize directory renders to, in order. */
export function renderKustomization(dir: string): KubeObject[] {
  const k = kustomizationOf(dir);
  const objects = (k.resources ?? []).flatMap((resource) => {
    const target = path.resolve(dir, resource);
    if (!existsSync(target)) throw new Error(`${dir}: resource ${resource} does not exist`);
    if (statSync(target).isDirectory()) return renderKustomization(target);
    return yamlDocuments(target).map((doc) => asObject(doc, target));
  });

  for (const object of objects) {
    if (k.namespace && !CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = k.namespace;
    for (const { pairs, includeTemplates } of k.labels ?? []) {
      object.metadata.labels = { ...object.metadata.labels, ...pairs };
      const template = (object.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
      if (includeTemplates && WORKLOADS.has(object.kind) && template) {
        template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...pairs } };
      }
    }
  }
  if (k.images) setImages(objects, k.images);

  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) throw new Error(`${dir}: ${o.kind} ${o.metadata.name} is defined twice`);
    seen.add(id);
  }
  return objects;
}

/** Multi-document YAML, as `kubectl kustomize` prints it. */
export const toYaml = (objects: KubeObject[]) => objects.map((o) => stringify(o)).join('---\n');

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? 'deploy/kubernetes';
  try {
    process.stdout.write(toYaml(renderKustomization(path.resolve(dir))));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
