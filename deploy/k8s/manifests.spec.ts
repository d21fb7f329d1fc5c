// Structural checks of the Kubernetes manifests (deploy/k8s). There is no cluster here, so every
// object is validated against the Kubernetes OpenAPI schemas (the kubernetes-models package's
// validate()), and then against the code it runs: the commands and flags exist, the settings it
// sets are grokstream's, the sweep's axes parse, and every ConfigMap, Secret, volume and claim it
// names is there.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Namespace, ConfigMap, PersistentVolumeClaim } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { SETTINGS_HELP, readSettings } from '@grokstream/shell';
import { sweepPoints } from '@grokstream/sweep';
import { resolveConfig } from '@grokstream/trainer';
import { HELP } from '../../services/cli/src/help.ts';

const DIR = import.meta.dirname;
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown>; data?: Record<string, string> };
interface Container {
  name: string;
  image: string;
  args?: string[];
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string }; secret?: { secretName: string }; persistentVolumeClaim?: { claimName: string } }>;
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const objects: Array<{ file: string; obj: Obj }> = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, obj: d.toJS() as Obj };
  }),
);
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
};
const podOf = (o: Obj): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;
const workloads = objects.filter(({ obj }) => obj.kind === 'Deployment' || obj.kind === 'Job');
const configMaps = new Map(objects.filter(({ obj }) => obj.kind === 'ConfigMap').map(({ obj }) => [obj.metadata.name, obj]));

describe('deploy/k8s', () => {
  it('is valid against the Kubernetes schemas, object by object, all in the grokstream namespace', () => {
    expect(objects.length).toBeGreaterThanOrEqual(8);
    for (const { file, obj } of objects) {
      const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      expect(Model, `${file}: ${obj.apiVersion} ${obj.kind} is not a kind these checks know`).toBeDefined();
      expect(() => new Model!(obj as never).validate(), `${file}: ${obj.kind} ${obj.metadata.name}`).not.toThrow();
      if (obj.kind !== 'Namespace') expect(obj.metadata.namespace, `${file}: ${obj.metadata.name}`).toBe('grokstream');
    }
    // and the validator does catch a broken one
    const broken = structuredClone(workloads[0]!.obj) as Obj;
    delete (broken.spec as Record<string, unknown>).selector;
    expect(() => new Deployment(broken as never).validate()).toThrow(/selector/);
  });

  it('the kustomization lists every file but the Job, which is created on demand', () => {
    const k = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
    expect([...k.resources].sort()).toEqual(files.filter((f) => f !== 'sweep-job.yaml').sort());
  });

  it('runs grokstream commands that exist, with the ingest, detect and worker services and a sweep Job', () => {
    const commands = workloads.map(({ obj }) => podOf(obj).containers[0]!.args![0]);
    expect(commands.sort()).toEqual(['detect', 'ingest', 'sweep', 'worker']);
    for (const { obj } of workloads) {
      const [command, ...flags] = podOf(obj).containers[0]!.args!;
      expect(HELP, `grokstream ${command}`).toMatch(new RegExp(`grokstream ${command}\\b`));
      for (const f of flags.filter((a) => a.startsWith('--'))) expect(HELP, `grokstream ${command} ${f}`).toContain(f);
    }
  });

  it('sets only grokstream settings, and they read back as a valid configuration', () => {
    const settings = configMaps.get('grokstream-settings')!.data!;
    for (const name of Object.keys(settings)) expect(SETTINGS_HELP, name).toContain(name);
    const env = { ...settings, GROKSTREAM_CLICKHOUSE_PASSWORD: 'from-the-secret' };
    const s = readSettings(env);
    expect(s.kafka.fromEnvironment).toBe(true);
    expect(s.store.kind).toBe('clickhouse');
    for (const { obj } of workloads) for (const e of podOf(obj).containers[0]!.env ?? []) expect(SETTINGS_HELP, e.name).toContain(e.name.replace(/_FILE$/, ''));
  });

  it('names only ConfigMaps, claims and secrets that are there (secrets: created by hand, documented), and mounts what the args use', () => {
    const claims = new Set(objects.filter(({ obj }) => obj.kind === 'PersistentVolumeClaim').map(({ obj }) => obj.metadata.name));
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    for (const { obj } of workloads) {
      const pod = podOf(obj);
      const c = pod.containers[0]!;
      for (const r of c.envFrom ?? []) expect(configMaps.has(r.configMapRef!.name), r.configMapRef!.name).toBe(true);
      const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
      for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name), `${obj.metadata.name}: volume ${m.name}`).toBe(true);
      for (const v of volumes.values()) {
        if (v.configMap) expect(configMaps.has(v.configMap.name), v.configMap.name).toBe(true);
        if (v.persistentVolumeClaim) expect(claims.has(v.persistentVolumeClaim.claimName)).toBe(true);
        if (v.secret) expect(readme, `the Secret ${v.secret.secretName} must be documented`).toContain(v.secret.secretName);
      }
      // a path argument is under one of its mounts (the Job's --checkpoint-dir is the workers', below)
      const args = c.args ?? [];
      for (const [i, a] of args.entries()) {
        if (!a.startsWith('/') || (obj.kind === 'Job' && args[i - 1] === '--checkpoint-dir')) continue;
        expect((c.volumeMounts ?? []).some((m) => a.startsWith(m.mountPath)), `${obj.metadata.name}: ${a}`).toBe(true);
      }
      // the password file is under the mounted secret
      const pw = c.env?.find((e) => e.name === 'GROKSTREAM_CLICKHOUSE_PASSWORD_FILE')?.value;
      if (pw) expect((c.volumeMounts ?? []).some((m) => pw.startsWith(m.mountPath))).toBe(true);
    }
  });

  it('the sweep points checkpoint where every worker mounts the shared claim', () => {
    const dirOf = (o: Obj) => {
      const args = podOf(o).containers[0]!.args!;
      return args[args.indexOf('--checkpoint-dir') + 1];
    };
    const job = workloads.find(({ obj }) => obj.kind === 'Job')!.obj;
    const worker = workloads.find(({ obj }) => podOf(obj).containers[0]!.args![0] === 'worker')!.obj;
    expect(dirOf(job)).toBe(dirOf(worker));
    const pod = podOf(worker);
    const mount = pod.containers[0]!.volumeMounts!.find((m) => dirOf(worker)!.startsWith(m.mountPath))!;
    expect(pod.volumes!.find((v) => v.name === mount.name)!.persistentVolumeClaim).toBeDefined();
    const pvc = objects.find(({ obj }) => obj.kind === 'PersistentVolumeClaim')!.obj as unknown as { spec: { accessModes: string[] } };
    expect(pvc.spec.accessModes).toContain('ReadWriteMany');
  });

  it("the sweep Job's config is a valid trainer config, and its axes parse into points", () => {
    const job = workloads.find(({ obj }) => obj.kind === 'Job')!.obj;
    const [, configPath, ...rest] = podOf(job).containers[0]!.args!;
    const file = configPath!.split('/').pop()!;
    const yaml = configMaps.get('grokstream-sweep-config')!.data![file]!;
    const cfg = resolveConfig(parseAllDocuments(yaml)[0]!.toJS(), [], `k8s ${file}`);
    expect(cfg.task.kind).toBe('modular');
    const axes = rest.filter((a, i) => !a.startsWith('--') && !rest[i - 1]?.startsWith('--'));
    const seeds = Number(rest[rest.indexOf('--seeds') + 1]);
    const points = sweepPoints({ axes, seeds });
    expect(points).toHaveLength(12);
    for (const p of points) expect(() => resolveConfig(parseAllDocuments(yaml)[0]!.toJS(), p.overrides, `k8s point ${p.index}`)).not.toThrow();
  });
});
