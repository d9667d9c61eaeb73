/** Entry: build the store and controller, render <App/> into #app, register the service worker. */
import { render } from 'preact';
import { browserDeps, watchOnline } from './browser';
import { App } from './components/App';
import { Controller } from './controller';
import { initialState } from './state';
import { Store } from './store';
import { registerServiceWorker } from './sw-update';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  const store = new Store(
    initialState({ online: navigator.onLine, isolated: globalThis.crossOriginIsolated === true }),
  );
  const controller = new Controller(browserDeps(store));
  const registration = registerServiceWorker().catch((err: unknown) => {
    console.warn('service worker not registered', err);
    return undefined;
  });
  controller.start(registration);
  watchOnline(controller);
  root.textContent = ''; // drop any static placeholder before Preact takes over
  render(<App controller={controller} />, root);
}
