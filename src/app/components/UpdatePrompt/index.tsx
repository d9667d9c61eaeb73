/** "A new version is ready": reload on request only (never a silent swap that mixes two versions). */
export interface UpdatePromptProps {
  applying: boolean;
  onReload(): void;
  onLater(): void;
}

export function UpdatePrompt({ applying, onReload, onLater }: UpdatePromptProps) {
  return (
    <div class="banner banner-update" role="status" data-testid="update-prompt">
      <p class="banner-body">Update available — reload to use the new version.</p>
      <button type="button" onClick={onReload} disabled={applying}>
        {applying ? 'Reloading…' : 'Reload'}
      </button>
      {!applying && (
        <button type="button" class="ghost" onClick={onLater}>
          Later
        </button>
      )}
    </div>
  );
}
