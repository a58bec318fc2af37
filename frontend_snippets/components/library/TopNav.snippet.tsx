// How the resync button joins a host's TopNav: right after the library switcher, only with a
// selected library, the `jobs:write` permission and access to that library (CONTRACT section 5).
//
// In Shisho's app/components/library/TopNav.tsx this is three lines:
//
//   const canResync = hasPermission("jobs", "write");
//   ...
//   </DropdownMenu>  {/* the Library Switcher */}
//   {libraryId && canResync && <ResyncButton libraryId={Number(libraryId)} />}
//
// The components below spell the same thing out with typed props, so it compiles and is tested.

import type { ReactNode } from "react";

import { ResyncButton } from "./ResyncButton";

/** The host's permission check, e.g. Shisho's `useAuth().hasPermission`. */
export type HasPermission = (resource: string, operation: string) => boolean;

export interface ResyncNavItemProps {
  /** The selected library, undefined on pages without one. */
  libraryId: number | undefined;
  hasPermission: HasPermission;
  /** Whether the user may see this library; defaults to yes (the switcher lists only those). */
  canAccessLibrary?: (libraryId: number) => boolean;
  /** Told when a click could not start a scan (the button shows the reason itself). */
  onResyncError?: (error: Error) => void;
}

/** The resync button when the user may start a scan of the selected library, else nothing. */
export function ResyncNavItem({
  libraryId,
  hasPermission,
  canAccessLibrary = () => true,
  onResyncError,
}: ResyncNavItemProps) {
  if (libraryId === undefined || !hasPermission("jobs", "write") || !canAccessLibrary(libraryId)) {
    return null;
  }
  return onResyncError === undefined ? (
    <ResyncButton libraryId={libraryId} />
  ) : (
    <ResyncButton libraryId={libraryId} onError={onResyncError} />
  );
}

export interface TopNavProps extends ResyncNavItemProps {
  /** The host's library switcher (a dropdown in Shisho). */
  librarySwitcher: ReactNode;
  /** Everything the nav shows after the button (search, user menu...). */
  children?: ReactNode;
}

/** A top nav with the button immediately after the library switcher. */
export function TopNav({ librarySwitcher, children, ...resync }: TopNavProps) {
  return (
    <nav className="flex items-center gap-2" data-testid="top-nav">
      {librarySwitcher}
      <ResyncNavItem {...resync} />
      {children}
    </nav>
  );
}
