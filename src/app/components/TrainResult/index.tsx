/** The outcome of a run: which model was kept, accuracy per class, the confusion matrix, misclassified photos. */
import type { ValidationReport } from '../../../../workers/engine/protocol';
import type { PhotoView } from '../../train/state';
import { ConfusionMatrix } from '../ConfusionMatrix';

export interface TrainResultProps {
  classes: string[];
  validation: ValidationReport;
  chosen?: 'head' | 'fine-tuned';
  outcome?: 'new' | 'kept-previous';
  photos: PhotoView[];
}

const pct = (v: number) => (Number.isFinite(v) ? `${Math.round(v * 100)} %` : '–');

export function TrainResult({ classes, validation, chosen, outcome, photos }: TrainResultProps) {
  const url = new Map(photos.map((p) => [p.id, p.url]));
  const on = validation.on === 'validation' ? 'held-out validation photos' : 'the training photos (none held out)';
  return (
    <section class="train-result" aria-labelledby="result-title" data-testid="train-result">
      <h3 id="result-title">Result</h3>
      <p data-testid="result-summary">
        Accuracy {pct(validation.accuracy)} on {on}
        {chosen === 'fine-tuned' ? ', with block5 fine-tuned' : ', head only'}.{' '}
        {outcome === 'kept-previous'
          ? 'The previous classifier was better on validation and stays in use; this one is stored too.'
          : 'This classifier is now used in the live view.'}
      </p>
      <table class="per-class" data-testid="per-class">
        <caption>Validation accuracy per class</caption>
        <tbody>
          {classes.map((c, i) => (
            <tr key={c}>
              <th scope="row">{c}</th>
              <td>{pct(validation.perClass[i] ?? NaN)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ConfusionMatrix classes={classes} confusion={validation.confusion} />
      <h4>Misclassified photos ({validation.misclassified.length})</h4>
      <ul class="thumbs misclassified" data-testid="misclassified">
        {validation.misclassified.map((m) => (
          <li key={m.photoId} class="thumb">
            {url.has(m.photoId) && <img src={url.get(m.photoId)} alt="" width={72} height={72} />}
            <span>
              {classes[m.label]} → {classes[m.predicted]} ({pct(m.prob)})
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
