export {
  loadTopics,
  parseTopics,
  topicIconColors,
  type TopicConfig,
  type TopicFile,
  type TopicRule,
  type TopicsConfig,
} from "./config.ts";
export { routeSignal, type RoutableSignal, type Route } from "./router.ts";
