/**
 * getUserMedia failures mapped to what the user can do about each one (webrtc/samples
 * #929, #933). Names per the Media Capture spec, plus the legacy Chrome/Firefox aliases.
 */

export type CameraProblemKind =
  'denied' | 'insecure' | 'not-found' | 'busy' | 'overconstrained' | 'aborted' | 'unsupported' | 'unknown';

export interface CameraProblem {
  kind: CameraProblemKind;
  /** The DOMException name, kept for the record. */
  name: string;
  title: string;
  message: string;
  /** Label of the retry button. */
  retry: string;
  /** Retry without size or facing preferences (the constraint could not be met). */
  relax: boolean;
}

const KIND_BY_NAME: Readonly<Record<string, CameraProblemKind>> = Object.freeze({
  NotAllowedError: 'denied',
  PermissionDeniedError: 'denied',
  SecurityError: 'insecure',
  NotFoundError: 'not-found',
  DevicesNotFoundError: 'not-found',
  NotReadableError: 'busy',
  TrackStartError: 'busy',
  OverconstrainedError: 'overconstrained',
  ConstraintNotSatisfiedError: 'overconstrained',
  AbortError: 'aborted',
  NotSupportedError: 'unsupported',
  TypeError: 'unsupported',
});

function errorName(err: unknown): string {
  const name = err && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name ? name : 'Error';
}

function errorText(err: unknown, key: 'message' | 'constraint'): string {
  const value = err && typeof err === 'object' ? (err as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : '';
}

/** The UI state for a camera failure: its own title, message and retry for each DOMException name. */
export function cameraErrorState(err: unknown): CameraProblem {
  const name = errorName(err);
  const kind = KIND_BY_NAME[name] ?? 'unknown';
  const base = { kind, name, retry: 'Try again', relax: false };
  switch (kind) {
    case 'denied':
      return {
        ...base,
        title: 'Camera access is blocked',
        message:
          'convlens needs the camera to show what the network sees. Allow camera access for this site ' +
          '(the camera icon in the address bar, or the site settings), then try again.',
      };
    case 'insecure':
      return {
        ...base,
        title: 'Camera not allowed on this page',
        message: 'The browser only opens the camera on secure pages (https:// or localhost) not blocked by a policy.',
      };
    case 'not-found':
      return {
        ...base,
        title: 'No camera found',
        message: 'Connect a camera or enable it in the system settings, then try again.',
      };
    case 'busy':
      return {
        ...base,
        title: 'The camera is busy',
        message:
          'Another app or browser tab may be using it, or the system blocked it. Close the other app, then try again.',
      };
    case 'overconstrained': {
      const constraint = errorText(err, 'constraint');
      return {
        ...base,
        retry: 'Use any camera',
        relax: true,
        title: 'No camera matches the requested settings',
        message: `No camera offers ${constraint ? `the requested ${constraint}` : 'the requested settings'}. Try again with any camera.`,
      };
    }
    case 'aborted':
      return { ...base, title: 'The camera stopped while starting', message: 'Something interrupted it. Try again.' };
    case 'unsupported':
      return {
        ...base,
        title: 'The camera is not available here',
        message: 'This browser cannot open the camera on this page. Use a current browser over https://.',
      };
    case 'unknown':
      return {
        ...base,
        title: 'The camera could not start',
        message: `${name}: ${errorText(err, 'message') || 'unknown error'}`,
      };
  }
}
