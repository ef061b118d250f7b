export {
  DEFAULT_TOPIC_PRIORITY,
  loadTopics,
  parseTopics,
  TOPIC_KEY_PATTERN,
  topicIconColors,
  topicPurposes,
  type TopicConfig,
  type TopicFile,
  type TopicIconColorName,
  type TopicPurpose,
  type TopicRule,
  type TopicsConfig,
} from "./config.ts";
export { routeSignal, type RoutableSignal, type Route } from "./router.ts";
