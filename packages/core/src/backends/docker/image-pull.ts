/**
 * Making an image present before the first launch, with progress a person can follow.
 *
 * Why not Testcontainers' own pull: it reads the pull stream without looking at its `error`
 * lines and without progress, and it runs inside `start()`, where its time would count against
 * the startup of the container. A first pull of a ~700 MB base image must be visible and must
 * never turn into a startup or invoke timeout (issue 4), so the backend pulls here, first.
 */
import type Dockerode from 'dockerode';
import type { PrepareProgress } from '../../backend.ts';
import { BackendError, ErrorCodes } from '../../errors.ts';

interface PullEvent {
  id?: string;
  status?: string;
  error?: string;
  progressDetail?: { current?: number; total?: number };
}

/** Minimum time between two progress lines (plus one per finished layer). */
const PROGRESS_INTERVAL_MS = 1_000;

const MB = 1024 * 1024;

export async function imageExists(docker: Dockerode, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

export function imageUnavailable(image: string, reason: string, cause?: unknown): BackendError {
  return new BackendError(
    ErrorCodes.IMAGE_UNAVAILABLE,
    `Image "${image}" is not present and could not be pulled: ${reason.trim()}. ` +
      'If no registry is reachable from here, build the local image (`lambda-testkit build-image`) and select it ' +
      'with the image override (the function\'s "image", the config\'s "images", or LAMBDA_TESTKIT_IMAGE), ' +
      'or run the functions as local processes (LAMBDA_TESTKIT_BACKEND=process).',
    { cause, details: { image, reason: reason.trim() } },
  );
}

/**
 * Pulls `image` unless it is present, reporting layers and bytes. Resolves once the image is
 * present; rejects with BackendError IMAGE_UNAVAILABLE naming the image and what to do.
 */
export async function ensureImage(
  docker: Dockerode,
  image: string,
  onProgress: (p: PrepareProgress) => void,
): Promise<'present' | 'pulled'> {
  if (await imageExists(docker, image)) return 'present';
  onProgress({ message: `pulling ${image}` });
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.pull(image);
  } catch (error) {
    throw imageUnavailable(image, error instanceof Error ? error.message : String(error), error);
  }
  const layers = new Map<string, { current: number; total: number; done: boolean }>();
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    let current = 0;
    let total = 0;
    let done = 0;
    for (const l of layers.values()) {
      current += l.current;
      total += l.total;
      if (l.done) done += 1;
    }
    onProgress({
      message: `pulling ${image}: ${done}/${layers.size} layers, ${(current / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB`,
    });
  };
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(imageUnavailable(image, error.message, error)) : resolve()),
      (event: PullEvent) => {
        if (event.error) {
          reject(imageUnavailable(image, event.error));
          return;
        }
        if (!event.id || !event.status) return;
        const layer = layers.get(event.id) ?? { current: 0, total: 0, done: false };
        layers.set(event.id, layer);
        if (event.status === 'Downloading' && event.progressDetail?.total) {
          layer.current = event.progressDetail.current ?? layer.current;
          layer.total = event.progressDetail.total;
          report(false);
        } else if (event.status === 'Pull complete' || event.status === 'Already exists') {
          layer.done = true;
          layer.current = layer.total;
          report(true);
        }
      },
    );
  });
  if (!(await imageExists(docker, image))) throw imageUnavailable(image, 'the pull ended without the image');
  onProgress({ message: `pulled ${image}` });
  return 'pulled';
}
