export {
  createExecutor,
  type ExecutionHooks,
  type ExecutionInput,
  type ExecutionResult,
  type Executor,
  type ExecutorDeps,
  type StepResult,
  type StepType,
} from "./executor.ts";
export { checkParamValues, planExecution, stepName, type ExecutionPlan, type ParamProblem, type PlannedRequest, type PlannedStep } from "./plan.ts";
export { displayArgv, humanDuration, shellQuote } from "./display.ts";
export { CHILD_ENV_PASSTHROUGH } from "./run-command.ts";
