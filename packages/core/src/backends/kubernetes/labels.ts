/**
 * Labels and names of what the Kubernetes backend creates: Pods, payload ConfigMaps and the owner
 * Lease. The keys are the Docker backend's container labels (`dev.lambda-testkit.*`), so one
 * selector finds a run's objects on either backend.
 *
 * Kubernetes label values are at most 63 characters of `[A-Za-z0-9._-]`, starting and ending with an
 * alphanumeric (Kubernetes "Labels and Selectors", syntax). Values that may not fit (function names,
 * deploy ids, host names) are labelled in a cleaned form and kept whole in annotations of the same key.
 */
import { createHash } from 'node:crypto';
import { ContainerLabels } from '../shared/object-labels.ts';

export const KubernetesLabels = {
  ...ContainerLabels,
  /** The backend session (one per KubernetesBackend) whose Lease says whether its owner is alive. */
  session: 'dev.lambda-testkit.session',
  /** What the object is to lambda-testkit: `instance` (a Pod), `payload` (code ConfigMap) or `owner` (the Lease). */
  role: 'dev.lambda-testkit.role',
} as const;

export type ObjectRole = 'instance' | 'payload' | 'owner';

/** A label value Kubernetes accepts, recognisably derived from `value` (a hash keeps it unique when cut). */
export function labelValue(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (cleaned === value && value.length <= 63) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  const head = cleaned.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '');
  return head ? `${head}-${hash}` : hash;
}

/**
 * An object name Kubernetes accepts (RFC 1123 label: lowercase alphanumerics and `-`, at most 63,
 * which also fits Pod host names): `prefix-<cleaned part>-<suffix>`.
 */
export function objectName(prefix: string, part: string, suffix: string): string {
  const budget = 63 - prefix.length - suffix.length - 2;
  const cleaned = part
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, Math.max(0, budget))
    .replace(/-+$/, '');
  return cleaned ? `${prefix}-${cleaned}-${suffix}` : `${prefix}-${suffix}`;
}

/** `key=value,…` for a label selector. */
export function selector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
