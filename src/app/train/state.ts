/** The training screen's slice of the app state (issue 4). Pure; the app reducer delegates 'train/*' actions here. */

export interface TrainUiState {
  /** Placeholder until the training screen lands. */
  ready: boolean;
}

export type TrainAction = { type: 'train/ready'; ready: boolean };

export function initialTrainState(): TrainUiState {
  return { ready: false };
}

export function trainReducer(state: TrainUiState, action: TrainAction): TrainUiState {
  switch (action.type) {
    case 'train/ready':
      return state.ready === action.ready ? state : { ...state, ready: action.ready };
  }
}
