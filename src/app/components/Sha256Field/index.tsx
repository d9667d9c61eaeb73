/** The optional "SHA-256" field of a URL form: the file's published checksum, with its problem inline. */

export interface Sha256FieldProps {
  /** The input's form name; also the prefix of the ids its hint and problem carry. */
  name: string;
  defaultValue?: string;
  /** Why the value is not a SHA-256 (see sha256Problem); undefined when it is fine. */
  problem?: string;
  /** Typing again clears the shown problem. */
  onInput(): void;
  testId: string;
}

export function Sha256Field({ name, defaultValue, problem, onInput, testId }: Sha256FieldProps) {
  const hintId = `${name}-hint`;
  const problemId = `${name}-problem`;
  return (
    <div class="sha-field">
      <label class="url-field">
        SHA-256 (optional)
        <input
          name={name}
          type="text"
          class="url-input sha-input"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          defaultValue={defaultValue}
          aria-invalid={problem ? 'true' : undefined}
          aria-describedby={problem ? `${problemId} ${hintId}` : hintId}
          onInput={onInput}
          data-testid={testId}
        />
      </label>
      <p id={hintId} class="hint">
        A weights file's published checksum, if its publisher gives one: the whole download is checked against it.
      </p>
      {problem && (
        <p id={problemId} class="field-problem" role="alert" data-testid={`${testId}-problem`}>
          {problem}
        </p>
      )}
    </div>
  );
}
