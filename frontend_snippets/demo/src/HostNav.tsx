import { useState } from "react";
import { useNavigate } from "react-router";

import { TopNav } from "../../components/library/TopNav.snippet";
import { ApiError } from "../../lib/api";
import { DEMO_LIBRARIES } from "./libraries";

// This demo has no permission API of its own: it shows the button to everyone signed in and
// lets the server decide. A refused click (403, or 401 once the session ended) says why on
// the button, and `onError` adds a way to sign in again.
const hasPermission = () => true;

/** The top nav: the library switcher, then the resync button (CONTRACT section 5). */
export function HostNav({ libraryId }: { libraryId: number | undefined }) {
  const navigate = useNavigate();
  const [signedOut, setSignedOut] = useState(false);
  const onError = (error: Error) => {
    setSignedOut(error instanceof ApiError && error.status === 401);
  };
  return (
    <header className="host-header">
      <TopNav
        hasPermission={hasPermission}
        libraryId={libraryId}
        librarySwitcher={
          <label className="host-switcher">
            <span className="host-visually-hidden">Library</span>
            <select
              data-testid="library-switcher"
              onChange={(event) => void navigate(`/libraries/${event.target.value}`)}
              value={libraryId ?? ""}
            >
              {libraryId === undefined ? <option value="">Choose a library</option> : null}
              {DEMO_LIBRARIES.map((library) => (
                <option key={library.id} value={library.id}>
                  {library.name}
                </option>
              ))}
            </select>
          </label>
        }
        onResyncError={onError}
      >
        <span className="host-brand">React host</span>
      </TopNav>
      {signedOut ? (
        <p className="host-notice" data-testid="host-notice">
          Your session has ended. <a href={`/login?next=${window.location.pathname}`}>Sign in</a>
        </p>
      ) : null}
    </header>
  );
}
