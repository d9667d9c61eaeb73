/**
 * The reducer's state held outside Preact, so effects read it synchronously right after their own
 * dispatches (a hook's state only updates on the next render). Components subscribe and re-render.
 */
import { reducer, type Action, type AppState } from './state';

export type Listener = (state: AppState) => void;

export class Store {
  private readonly listeners = new Set<Listener>();

  constructor(private current: AppState) {}

  get state(): AppState {
    return this.current;
  }

  readonly dispatch = (action: Action): void => {
    const next = reducer(this.current, action);
    if (next === this.current) return;
    this.current = next;
    for (const listener of [...this.listeners]) listener(next);
  };

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
