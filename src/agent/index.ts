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
export { planExecution, type ExecutionPlan } from "./plan.ts";
