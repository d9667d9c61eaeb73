/** Form helpers shared by the components. */
import { sha256Problem } from '../library/sha256';

/** On a form's submit: keep the page where it is and read the value of its field `name`. */
export function submittedValue(ev: Event, name: string): string {
  ev.preventDefault();
  const field = (ev.currentTarget as HTMLFormElement).elements.namedItem(name) as HTMLInputElement;
  return field.value;
}

/**
 * A URL form's submit handler (URL field `urlName`, SHA-256 field `shaName`): a valid SHA-256 (or none)
 * goes to onValid with the URL and '' or the SHA-256 as typed (trimmed); an invalid one submits nothing
 * and focuses its field. onProblem gets the field's problem, undefined when there is none.
 */
export function urlFormSubmit(
  urlName: string,
  shaName: string,
  onValid: (url: string, sha256: string) => void,
  onProblem: (problem: string | undefined) => void,
): (ev: Event) => void {
  return (ev) => {
    const url = submittedValue(ev, urlName);
    const field = (ev.currentTarget as HTMLFormElement).elements.namedItem(shaName) as HTMLInputElement;
    const problem = sha256Problem(field.value);
    onProblem(problem);
    if (problem) field.focus();
    else onValid(url, field.value.trim());
  };
}
