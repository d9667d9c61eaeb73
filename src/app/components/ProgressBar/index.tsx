/** A labelled <progress> with its amount in words (bytes or items, and percent). */
import type { Progress } from '../../../../workers/engine/protocol';
import { formatProgress } from '../../format';

export interface ProgressBarProps {
  /** What is progressing, e.g. "Downloading the demo model". */
  label: string;
  progress?: Progress;
  testId?: string;
}

export function ProgressBar({ label, progress, testId }: ProgressBarProps) {
  const known = progress !== undefined && progress.total > 0;
  const text = known ? formatProgress(progress) : 'starting…';
  return (
    <div class="progress" data-testid={testId}>
      <span class="progress-label">
        {label}
        {progress?.phase ? ` · ${progress.phase}` : ''}
      </span>
      {/* Without value, <progress> is indeterminate: the total is not known yet. */}
      <progress
        aria-label={label}
        aria-valuetext={text}
        max={known ? progress.total : undefined}
        value={known ? Math.min(progress.done, progress.total) : undefined}
      />
      <span class="progress-text">{text}</span>
    </div>
  );
}
