/** confusion[true][predicted] as a table: rows are the true classes, columns what the classifier said. */
export interface ConfusionMatrixProps {
  classes: string[];
  confusion: number[][];
}

export function ConfusionMatrix({ classes, confusion }: ConfusionMatrixProps) {
  const max = Math.max(1, ...confusion.flat());
  return (
    // Many classes make a wide table: it scrolls inside its own region, not the page.
    <div class="table-scroll" role="region" aria-label="Confusion matrix" tabIndex={0}>
      <table class="confusion" data-testid="confusion">
        <caption>Confusion matrix (rows: true class, columns: predicted)</caption>
        <thead>
          <tr>
            <th scope="col">true \ predicted</th>
            {classes.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {confusion.map((row, t) => (
            <tr key={t}>
              <th scope="row">{classes[t]}</th>
              {row.map((n, p) => (
                <td key={p} class={p === t ? 'hit' : n ? 'miss' : undefined} style={{ '--cell': String(n / max) }}>
                  {n}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
