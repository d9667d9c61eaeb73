/** ONNX op type → gradient rule. The one table the driver reads. */
import type { Rule } from '../types';
import * as activation from './activation';
import * as conv from './conv';
import * as elementwise from './elementwise';
import * as gemm from './gemm';
import * as pool from './pool';
import * as reduce from './reduce';
import * as shape from './shape';

export const RULES: Readonly<Record<string, Rule>> = Object.freeze({
  ...elementwise,
  ...activation,
  ...gemm,
  ...conv,
  ...pool,
  ...reduce,
  ...shape,
});
