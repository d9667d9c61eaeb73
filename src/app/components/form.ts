/** Form helpers shared by the components. */

/** On a form's submit: keep the page where it is and read the value of its field `name`. */
export function submittedValue(ev: Event, name: string): string {
  ev.preventDefault();
  const field = (ev.currentTarget as HTMLFormElement).elements.namedItem(name) as HTMLInputElement;
  return field.value;
}
