// Barrel of the Docker backend: the backend itself, the local image build, the sweep.
export {
  DockerBackend,
  type DockerBackendOptions,
  type DockerInstance,
  INVOKE_PORT,
} from './docker-backend.ts';
export { connectEngine, isEngineAvailable } from './engine.ts';
export { ContainerLabels, ImageLabels } from './labels.ts';
export {
  type BuildLocalImageOptions,
  buildLocalImage,
  IMAGE_EMULATOR_DIR,
  LOCAL_IMAGE_REPOSITORY,
  type LocalImage,
  localImageTag,
} from './local-image.ts';
export { type ReapOptions, reapStaleContainers, type StaleContainer } from './reap-stale.ts';
