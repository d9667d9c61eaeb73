/**
 * A training run's last step: the validation report (confusion matrix, misclassified photos) and the
 * classifier file, from the model the run kept.
 */
import type { BaseContext } from './trainer';
import type { Classifier, ClassifierManifest } from './classifier';
import { CLASSIFIER_FORMAT, CLASSIFIER_VERSION, encodeClassifier } from './classifier';
import type { EpochMetrics, Sample } from './fit';
import { argmax } from './fit';
import type { HeadSpec } from './heads';
import type { Settings, TrainRequest, ValidationReport } from './request';

/** Accuracy, per-class accuracy, the confusion matrix and the misclassified photos of `samples`. */
export function report(
  logits: Float32Array,
  samples: readonly Sample[],
  req: TrainRequest,
  on: ValidationReport['on'],
  loss: number,
): ValidationReport {
  const n = req.classes.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const misclassified: ValidationReport['misclassified'] = [];
  samples.forEach((s, i) => {
    const predicted = argmax(logits, i * n, n);
    confusion[s.label]![predicted]!++;
    if (predicted !== s.label) {
      const row = Array.from(logits.subarray(i * n, (i + 1) * n));
      const max = Math.max(...row);
      const z = row.reduce((a, v) => a + Math.exp(v - max), 0);
      misclassified.push({ photoId: req.photos[s.photo]!.id, label: s.label, predicted, prob: 1 / z });
    }
  });
  const perClass = confusion.map((row, c) => row[c]! / row.reduce((a, b) => a + b, 0));
  const correct = confusion.reduce((a, row, c) => a + row[c]!, 0);
  return { on, loss, accuracy: correct / Math.max(samples.length, 1), confusion, perClass, misclassified };
}

/** What the run learnt about the model it kept, for the classifier's manifest. */
export interface Outcome {
  fineTuned: boolean;
  validation: ValidationReport;
  history: readonly EpochMetrics[];
  trainedOn: number;
}

/** The classifier file: the manifest (base, classes, head, metrics) and the kept weights. */
export function packageClassifier(
  base: BaseContext,
  req: TrainRequest,
  s: Settings,
  spec: HeadSpec,
  outcome: Outcome,
  weights: Classifier['weights'],
): Uint8Array {
  const cfg = base.manifest.architecture;
  const manifest: Omit<ClassifierManifest, 'tensors'> = {
    format: CLASSIFIER_FORMAT,
    version: CLASSIFIER_VERSION,
    base: {
      hash: base.hash,
      id: base.manifest.id,
      architecture: cfg.name,
      preprocessing: base.manifest.preprocessing,
      inputSize: s.inputSize,
    },
    classes: [...req.classes],
    head: { kind: spec.kind, hidden: spec.hidden, dropout: spec.dropout },
    fineTuned: outcome.fineTuned,
    metrics: {
      valLoss: outcome.validation.loss,
      valAcc: outcome.validation.accuracy,
      epochs: outcome.history.length,
      trainedOn: outcome.trainedOn,
    },
    created: new Date().toISOString(),
  };
  return encodeClassifier({ manifest, weights }, cfg);
}
