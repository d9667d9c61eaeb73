/**
 * The root: subscribes to the store and lays out the screens. All behaviour is the controller's; this
 * only wires its methods to the dumb components. A render error shows a way out instead of a blank page.
 */
import { useEffect, useErrorBoundary, useMemo, useState } from 'preact/hooks';
import type { Controller } from '../../controller';
import { selectDemoWeights, selectShowUpdate } from '../../selectors';
import { EngineNotice } from '../EngineNotice';
import { ErrorBanner } from '../ErrorBanner';
import { Header } from '../Header';
import { InsightScreen } from '../InsightScreen';
import { LiveView } from '../LiveView';
import { ModelScreen } from '../ModelScreen';
import { TrainScreen } from '../TrainScreen';
import { UpdatePrompt } from '../UpdatePrompt';
import { insightActions, liveActions, modelActions, trainActions } from './actions';

export interface AppProps {
  controller: Controller;
  /** Reloads the page (the error fallback's way out). */
  reload?: () => void;
}

export function App({ controller, reload = () => location.reload() }: AppProps) {
  const [state, setState] = useState(controller.store.state);
  useEffect(() => {
    setState(controller.store.state); // anything dispatched before this effect ran
    return controller.store.subscribe(setState);
  }, [controller]);
  const [crash] = useErrorBoundary((err: unknown) => console.error('render failed', err));

  const models = useMemo(() => modelActions(controller), [controller]);
  const live = useMemo(() => liveActions(controller), [controller]);
  const train = useMemo(() => trainActions(controller), [controller]);
  const insight = useMemo(() => insightActions(controller), [controller]);

  if (crash) return <Crashed crash={crash} reload={reload} />;

  // Views that need a model fall back to the model screen while none is loaded.
  const view = state.model.status === 'none' ? 'models' : state.view;
  return (
    <div class="app">
      <Header
        view={view}
        canGoLive={state.model.status !== 'none'}
        backend={state.engine.backend}
        isolated={state.engine.isolated}
        demoWeights={selectDemoWeights(state)}
        onView={(view) => controller.showView(view)}
        onMemorySaver={(on) => controller.setMemorySaver(on)}
      />
      {selectShowUpdate(state) || state.update === 'applying' ? (
        <UpdatePrompt
          applying={state.update === 'applying'}
          onReload={() => controller.acceptUpdate()}
          onLater={() => controller.dismissUpdate()}
        />
      ) : null}
      <EngineNotice engine={state.engine} onRestart={() => controller.restartEngine()} />
      {state.error && <ErrorBanner error={state.error} onDismiss={() => controller.dismissError()} onReload={reload} />}
      <p class="notice" role="status" aria-live="polite">
        {state.notice}
      </p>
      <main id="main">
        {view === 'live' ? (
          <LiveView state={state} actions={live} />
        ) : view === 'train' ? (
          <TrainScreen state={state} actions={train} />
        ) : view === 'inside' ? (
          <InsightScreen state={state} actions={insight} />
        ) : (
          <ModelScreen state={state} actions={models} />
        )}
      </main>
    </div>
  );
}

/** A render error: what failed and a way out instead of a blank page. */
function Crashed({ crash, reload }: { crash: unknown; reload: () => void }) {
  return (
    <main class="app fatal" role="alert" data-testid="error">
      <h1>convlens stopped</h1>
      <p>{crash instanceof Error ? crash.message : String(crash)}</p>
      <button type="button" onClick={reload}>
        Reload
      </button>
    </main>
  );
}
