// The package's entry point (`npm pack` makes a tarball a React host installs instead of
// copying the files): the button, the nav item, the hooks, the API helper and the types.
// The sources ship as TypeScript; the host's bundler compiles them like its own.

export { ResyncButton, type ResyncButtonProps } from "./components/library/ResyncButton";
export {
  ResyncNavItem,
  TopNav,
  type HasPermission,
  type ResyncNavItemProps,
  type TopNavProps,
} from "./components/library/TopNav.snippet";
export * from "./components/library/resyncButtonState";
export * from "./hooks/queries/jobs";
export {
  DEFAULT_STATIC_PATH,
  setJobEventsStaticPath,
  subscribeJobEvents,
  type JobEventsListener,
  type JobStreamEvent,
  type SharedJobEventsOptions,
} from "./hooks/sharedJobEvents";
export { useJobEvents } from "./hooks/useJobEvents";
export * from "./lib/api";
export * from "./types/generated";
