// Barrel of the Docker backend: the backend itself, backend selection, the local image build.
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
