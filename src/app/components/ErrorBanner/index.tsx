/** The one error on screen: title, the engine's message (it says what to do), our hint, and dismiss. */
import { describeError, type AppError } from '../../errors';

export interface ErrorBannerProps {
  error: AppError;
  onDismiss(): void;
  onReload(): void;
}

export function ErrorBanner({ error, onDismiss, onReload }: ErrorBannerProps) {
  const text = describeError(error);
  return (
    <div class="banner banner-error" role="alert" data-testid="error" data-error-name={error.name}>
      <div class="banner-body">
        <strong>{text.title}</strong>
        <p>{text.message}</p>
        {text.hint && <p class="hint">{text.hint}</p>}
      </div>
      {text.reload && (
        <button type="button" onClick={onReload}>
          Reload
        </button>
      )}
      <button type="button" class="ghost" onClick={onDismiss} aria-label={`Dismiss: ${text.title}`}>
        Dismiss
      </button>
    </div>
  );
}
