// Types of the localface npm package. They name browser types (ImageData, VideoFrame...) and Symbol.dispose,
// so they bring in those libraries themselves: a Node.js project need not add "dom" to its own.
/// <reference lib="dom" />
/// <reference lib="esnext.disposable" />

/** Anything a frame can come from. */
/** An image: a browser image source, or the bytes of a JPEG, PNG or WebP file (a Uint8Array or Node.js Buffer;
 *  decoded by the library, in the browser and in Node.js alike). */
export type FrameSource = ImageData | HTMLVideoElement | HTMLCanvasElement | HTMLImageElement | ImageBitmap | VideoFrame | OffscreenCanvas | Uint8Array;

export interface Box { x: number; y: number; width: number; height: number }
export interface Point { x: number; y: number }

/** A detected face, in the frame's pixels. */
export interface Face {
  box: Box;
  score: number;
  /** O-Net: eye on the image's left, other eye, nose tip, mouth corners; BlazeFace: eyes, nose, mouth centre. */
  landmarks: Point[];
}

export interface IdentifiedFace extends Face {
  /** The enrolled person, or null when no one is similar enough. */
  name: string | null;
  /** Cosine similarity (or Euclidean distance) to the closest enrolled person; null with an empty gallery. */
  similarity: number | null;
  quality?: Quality;
}

/** How usable a face is: its measures, a score from 0 to 1, and what keeps it from being enrolled. */
export interface Quality {
  score: number;
  /** Pixels between the eyes. */
  eyeDistance: number;
  /** Variance of the Laplacian on the aligned 112x112 crop: low when blurred. */
  sharpness: number;
  /** Head turn and tilt, degrees (0: facing the camera). */
  yaw: number;
  pitch: number;
  /** Mean and standard deviation of the face's grey levels, 0-255. */
  brightness: number;
  contrast: number;
  problems: ('tooSmall' | 'tooBlurred' | 'turnedAway' | 'tooDark' | 'tooBright' | 'flatLight')[];
}

/** A face in a video frame, followed from frame to frame (`track`). */
export interface TrackedFace extends IdentifiedFace {
  /** Stays the same while the face stays in view. */
  trackId: number;
  /** The name has held over several embeddings and can be trusted. */
  settled: boolean;
  quality: Quality;
}

export interface Verdict { similarity: number; same: boolean; threshold: number }
export interface Enrolled { name: string; samples: number; box: Box }
/** A face's liveness: the probability that it is a live person rather than a photo or a screen held to the
 *  camera, and whether that counts as live (0.5 or more). */
export interface LivenessFace { box: Box; score: number; live: boolean }

/** A step of the active liveness challenge. */
export type ChallengeStep = 'blink' | 'turnLeft' | 'turnRight';
export interface ChallengeOptions {
  /** Fixes the steps' order (a whole number); random by default. */
  seed?: number;
  /** Time allowed for each step, 1 to 60 (default 6). */
  stepSeconds?: number;
}
export interface ChallengeStarted { steps: ChallengeStep[]; stepSeconds: number }
/** What a frame showed of the one face in view: the probability that each eye is closed (the eye on the
 *  image's left first), and the head's yaw (positive: turned to the person's right), pitch and roll, degrees. */
export interface ChallengeCues { eyesClosed: [number, number]; yaw: number; pitch: number; roll: number }
export interface ChallengeFrame {
  state: 'running' | 'passed' | 'failed';
  /** The step it waits for while running. */
  step: ChallengeStep | null;
  steps: ChallengeStep[];
  /** Why it failed. */
  reason: string | null;
  faces: number;
  cues: ChallengeCues | null;
}
export interface Person { name: string; samples: number }
/** A model's download; `cached`: read from the copy kept in Cache Storage, not downloaded. */
export interface Progress { file: string; loaded: number; total: number; cached?: boolean }

export interface RecognizerOptions {
  /** 'auto' (default: the GPU where it runs the embedder faster than the CPU, see `BackendChoice`), 'cpu' or
   *  'gpu' ('reference': the scalar kernels, slow, for checking the others). */
  backend?: 'auto' | 'cpu' | 'gpu' | 'reference';
  /** Where your own .tflite models are (named as the defaults). By default the package's own models, which
   *  are checked against their sha256 before use and then kept in Cache Storage (a second visit downloads
   *  nothing); yours are neither. */
  modelBaseUrl?: string;
  onProgress?: (progress: Progress) => void;
  /** BlazeFace 'short' range (default, faces within 2 m) or 'full' range. */
  detector?: 'short' | 'full';
  /** Align with O-Net's five points (default) or BlazeFace's keypoints. */
  landmarks?: 'onet' | 'blazeface';
  metric?: 'cosine' | 'euclidean';
  /** Similarity (cosine) or distance (euclidean) that decides a match; 0.5 cosine by default. */
  threshold?: number;
  /** Also search tiles of large frames for small faces (slower). */
  tiles?: boolean;
  /** The gallery's key in IndexedDB ('default'); null keeps it in memory only, as does the default where there
   *  is no IndexedDB (Node.js). */
  gallery?: string | null;
  /** Encrypts the stored gallery (AES-256-GCM, key from PBKDF2-HMAC-SHA256, 600,000 iterations); a stored
   *  gallery that is encrypted needs it, a plain one is encrypted at once. Exports stay plain. */
  passphrase?: string;
}

/**
 * Every error the package throws or rejects with is an `Error` whose `name` is one of these, stable across
 * versions: branch on `error.name`, never on the message (which says what happened, for people).
 * - `ModelInvalid`: a model file that is malformed or uses something not supported, or one of the package's
 *   models whose sha256 is not the one it should have (a corrupt download).
 * - `ModelFetchFailed`: a model could not be downloaded (the message gives the address).
 * - `WasmLoadFailed`: `init()` could not load the WebAssembly module (the message gives the address); it can
 *   be called again.
 * - `NotInitialized`: a recognizer was asked for before `await init()`.
 * - `InputInvalid`: an image source or tensor that cannot be used (unsupported, empty, too large).
 * - `OptionInvalid`: an option with a value not understood (`backend: 'tpu'`).
 * - `NoFace`: no face where one was needed (enroll, verify).
 * - `ManyFaces`: more than one face where one was needed (enroll).
 * - `PoorShot`: a face too small, blurred, turned away or badly lit to enroll (the message says which).
 * - `GalleryLocked`: the stored gallery or an imported file is encrypted and no passphrase, or a wrong one,
 *   was given.
 * - `GalleryCorrupt`: a stored gallery or an imported file that is not a readable gallery of this model.
 * - `GalleryBusy`: a gallery change was made while the previous one was still being saved.
 * - `UnknownPerson`: rename or remove of a name that is not enrolled.
 * - `NameTaken`: rename to a name that is already enrolled.
 * - `StorageFull`: the browser's storage quota is used up; the stored gallery is unchanged.
 * - `StorageFailed`: IndexedDB could not be opened, read or written.
 * - `GpuFailed`: `backend: 'gpu'` where there is no usable WebGPU adapter.
 * - `IoFailed`: no random numbers for encryption (should not happen in a browser).
 * - `Panicked`: a bug in localface made the call panic (the message says where); the module restarts on the
 *   next call. The calls under way fail with it too.
 * - `RecognizerLost`: a recognizer, gallery or model made before a panic; create it again.
 * - `RecognizerCrashed` (worker mode): the recognizer panicked; a fresh worker was started.
 * - `RecognizerClosed` (worker mode): the worker was terminated.
 * - `WorkerFailed` (worker mode): the worker script failed to load or run.
 */
export type LocalfaceErrorName =
  | 'ModelInvalid' | 'ModelFetchFailed' | 'WasmLoadFailed' | 'NotInitialized' | 'InputInvalid' | 'OptionInvalid' | 'NoFace' | 'ManyFaces'
  | 'PoorShot' | 'GalleryLocked' | 'GalleryCorrupt' | 'GalleryBusy' | 'UnknownPerson' | 'NameTaken' | 'StorageFull'
  | 'StorageFailed' | 'GpuFailed' | 'IoFailed' | 'Panicked' | 'RecognizerLost' | 'RecognizerCrashed' | 'RecognizerClosed' | 'WorkerFailed';

export interface LocalfaceError extends Error {
  name: LocalfaceErrorName;
}

export interface InitOptions {
  /** Load this .wasm instead of choosing between the relaxed-SIMD and plain SIMD builds. */
  wasmUrl?: string | URL;
  noRelaxedSimd?: boolean;
}

/** Loads the WebAssembly module (once). */
export default function init(options?: InitOptions): Promise<unknown>;
export function hasRelaxedSimd(): boolean;

/** The enrolled people; every change is saved (IndexedDB, with a copy in Cache Storage) before it takes effect. */
export class Gallery {
  private constructor();
  free(): void;
  [Symbol.dispose](): void;
  people(): Person[];
  /** Whether the stored gallery is encrypted. */
  readonly encrypted: boolean;
  /** Set when loading read the stored gallery from its copy in Cache Storage, because IndexedDB could not be
   *  read, had lost it (Chromium resets a database it finds corrupt) or held an older one: says which. */
  readonly restored: string | undefined;
  rename(from: string, to: string): Promise<void>;
  remove(name: string): Promise<void>;
  clear(): Promise<void>;
  /** The gallery as a versioned, checksummed file. */
  export(): Uint8Array;
  /** Replaces the gallery with an exported file (plain, or encrypted with this passphrase), checked whole first. */
  import(bytes: Uint8Array): Promise<void>;
}

/** What `backend: 'auto'` chose. It times the embedder on the GPU and on the CPU kernels once per browser,
 *  adapter and model (a few hundred milliseconds), keeps the result in the page's storage (IndexedDB), and
 *  takes the faster. A GPU emulated on the CPU (SwiftShader) is not timed: the CPU kernels are faster. */
export interface BackendChoice {
  /** The GPU was chosen (else the CPU kernels). */
  gpu: boolean;
  /** The embedder's time per face (batch 1) on each, where timed. */
  gpuMs: number | null;
  cpuMs: number | null;
  /** Why, in words: 'the GPU: the embedder took 1.10 ms on ... and 21.5 ms on the CPU kernels'. */
  reason: string;
  /** Taken from an earlier timing on this browser and adapter, not timed now. */
  remembered: boolean;
}

export class Recognizer {
  private constructor();
  static create(options?: RecognizerOptions): Promise<Recognizer>;
  /** Like `create`, with the model files given as bytes (not checked against the default models): the
   *  BlazeFace detector (short or full range, as `options.detector` says), O-Net, MobileFaceNet. */
  static fromModels(detector: Uint8Array, onet: Uint8Array, embedder: Uint8Array, options?: RecognizerOptions): Promise<Recognizer>;
  free(): void;
  [Symbol.dispose](): void;
  /** Where the networks run now; turns from 'gpu' to 'cpu' for good if the GPU fails. */
  readonly backend: 'cpu' | 'gpu' | 'reference';
  /** Why it runs on the CPU although it could have used the GPU (no WebGPU, no adapter, the CPU was
   *  faster, device lost). */
  readonly fallbackReason: string | undefined;
  /** What `backend: 'auto'` chose and why; undefined for a backend asked for by name. */
  readonly backendChoice: BackendChoice | undefined;
  /** The CPU kernels' instruction set, e.g. 'wasm simd128 + relaxed-simd'. */
  readonly kernels: string;
  readonly threshold: number;
  readonly gallery: Gallery;
  detect(source: FrameSource): Promise<Face[]>;
  identify(source: FrameSource): Promise<IdentifiedFace[]>;
  /** One frame of a video: faces with track ids and names that hold from frame to frame. Detects the whole
   *  frame on a schedule or when a face is lost, and embeds only when a name needs it. */
  track(source: FrameSource): Promise<TrackedFace[]>;
  /** Forgets the tracks (a new video, another camera). */
  resetTracks(): void;
  /** Refuses a poor shot with `PoorShot` (too small, blurred, turned away, badly lit), saying why. */
  enroll(name: string, source: FrameSource): Promise<Enrolled>;
  verify(a: FrameSource, b: FrameSource): Promise<Verdict>;
  /** Loads the anti-spoofing model (fr_liveness.onnx, which the package does not bundle) for `liveness`. */
  loadLiveness(bytes: Uint8Array): Promise<void>;
  /** Per face, whether it is a live person; `OptionInvalid` before `loadLiveness`. */
  liveness(source: FrameSource): Promise<LivenessFace[]>;
  /** Loads the active challenge's models (fr_landmark.onnx, fr_eye.onnx and fr_pose.onnx, not bundled). */
  loadChallenge(landmark: Uint8Array, eye: Uint8Array, pose: Uint8Array): Promise<void>;
  /** Starts a challenge: blink, turn left, turn right, in random order, each within `stepSeconds`. */
  startChallenge(options?: ChallengeOptions): ChallengeStarted;
  /** One camera frame of the challenge, seen at `timeMs` (default: now); `OptionInvalid` before
   *  `loadChallenge` or `startChallenge`. */
  challengeFrame(source: FrameSource, timeMs?: number): Promise<ChallengeFrame>;
  memoryBytes(): number;
}

/** The same API in a Web Worker: every call is asynchronous, frames are transferred. */
export class RecognizerWorker {
  static create(options?: RecognizerOptions, initOptions?: InitOptions): Promise<RecognizerWorker>;
  /** As of the last answered call. */
  readonly backend: 'cpu' | 'gpu';
  readonly fallbackReason: string | null;
  /** As chosen when the worker started. */
  readonly backendChoice: BackendChoice | null;
  readonly kernels: string;
  readonly threshold: number;
  /** Whether the stored gallery is encrypted (a passphrase was given). */
  readonly encrypted: boolean;
  /** The gallery's `restored`: why it was read from its copy in Cache Storage, or null. */
  readonly galleryRestored: string | null;
  /** How many times a crashed worker was replaced. */
  readonly restarts: number;
  readonly gallery: {
    people(): Promise<Person[]>;
    rename(from: string, to: string): Promise<void>;
    remove(name: string): Promise<void>;
    clear(): Promise<void>;
    export(): Promise<Uint8Array>;
    import(bytes: Uint8Array): Promise<void>;
  };
  detect(source: FrameSource): Promise<Face[]>;
  identify(source: FrameSource): Promise<IdentifiedFace[]>;
  track(source: FrameSource): Promise<TrackedFace[]>;
  resetTracks(): Promise<void>;
  enroll(name: string, source: FrameSource): Promise<Enrolled>;
  verify(a: FrameSource, b: FrameSource): Promise<Verdict>;
  /** Loaded again in a replaced worker. */
  loadLiveness(bytes: Uint8Array): Promise<void>;
  liveness(source: FrameSource): Promise<LivenessFace[]>;
  /** Loaded again in a replaced worker (a challenge under way is not: start another). */
  loadChallenge(landmark: Uint8Array, eye: Uint8Array, pose: Uint8Array): Promise<void>;
  startChallenge(options?: ChallengeOptions): Promise<ChallengeStarted>;
  challengeFrame(source: FrameSource, timeMs?: number): Promise<ChallengeFrame>;
  memoryBytes(): Promise<number>;
  terminate(): void;
}

/** Any .tflite model this package can read (or .onnx, NHWC as well), run directly on float32 NHWC input. */
export class TfliteModel {
  /** On the CPU. kernels: 'simd' (default) or 'reference' (the scalar kernels). */
  constructor(bytes: Uint8Array, kernels?: 'simd' | 'reference');
  /** On the GPU (WebGPU); rejects where there is none. */
  static onGpu(bytes: Uint8Array): Promise<TfliteModel>;
  readonly backend: 'gpu' | 'cpu' | 'reference';
  /** The CPU kernels' instruction set, e.g. 'wasm simd128 + relaxed-simd'. */
  readonly kernels: string;
  free(): void;
  [Symbol.dispose](): void;
  /** Runs the model on one input of `shape` (any batch); returns each output's values. */
  run(input: Float32Array, shape: number[]): Promise<Float32Array[]>;
  /** Milliseconds per op type (CPU kernels), averaged over `runs` runs. */
  profile(input: Float32Array, shape: number[], runs: number): Record<string, number>;
}
