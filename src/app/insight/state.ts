/** The "Inside" screen's slice of the app state (issue 5). Pure; the app reducer delegates 'insight/*' actions here. */

export interface InsightUiState {
  /** Placeholder until the insight screen lands. */
  ready: boolean;
}

export type InsightAction = { type: 'insight/ready'; ready: boolean };

export function initialInsightState(): InsightUiState {
  return { ready: false };
}

export function insightReducer(state: InsightUiState, action: InsightAction): InsightUiState {
  switch (action.type) {
    case 'insight/ready':
      return state.ready === action.ready ? state : { ...state, ready: action.ready };
  }
}
